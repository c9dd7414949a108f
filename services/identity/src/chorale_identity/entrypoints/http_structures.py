"""A structure's gestionnaire principal and technical accounts."""

from __future__ import annotations

from fastapi import APIRouter

from chorale_identity.domain.gestionnaire import GestionnairePrincipal
from chorale_identity.domain.technical_accounts import (
    ClientCredentials,
    TechnicalAccount,
    to_view,
)
from chorale_identity.entrypoints.deps import Deps
from chorale_identity.entrypoints.schemas import DesignateBody, TechnicalAccountBody, TransferBody
from chorale_identity.service_layer import gestionnaires, technical_accounts
from chorale_identity.service_layer.events import Cause
from chorale_runtime.auth import Principal


def gp_out(gp: GestionnairePrincipal) -> dict:
    return gp.model_dump(mode="json")


def with_secret(account: TechnicalAccount, credentials: ClientCredentials) -> dict:
    """The only answer that ever carries a client secret (creation and rotation)."""
    return {**to_view(account).model_dump(mode="json"), "clientSecret": credentials.client_secret}


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/structures/{identifiant}", tags=["structures"])
    ctx = deps.ctx

    @router.get("/gestionnaire-principal", summary="Gestionnaire principal de la structure")
    async def get_gp(identifiant: str, principal: Principal = deps.principal) -> dict:
        return gp_out(await gestionnaires.read(ctx, principal, identifiant))

    @router.put(
        "/gestionnaire-principal", summary="Désigner le GP (opérateurs, structure publique)"
    )
    async def designate(
        identifiant: str,
        body: DesignateBody,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        return gp_out(
            await gestionnaires.designate(
                ctx, principal, identifiant, body.userId, body.replace, cause
            )
        )

    @router.post("/gestionnaire-principal/transfer", summary="Transférer le rôle de GP")
    async def transfer(
        identifiant: str,
        body: TransferBody,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        return gp_out(
            await gestionnaires.transfer(ctx, principal, identifiant, body.toUserId, cause)
        )

    @router.post("/technical-accounts", status_code=201, summary="Créer un compte technique")
    async def create_technical(
        identifiant: str,
        body: TechnicalAccountBody,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        account, credentials = await technical_accounts.create(
            ctx, principal, identifiant, body.label, cause
        )
        return with_secret(account, credentials)

    @router.get("/technical-accounts", summary="Comptes techniques (sans secret)")
    async def list_technical(identifiant: str, principal: Principal = deps.principal) -> dict:
        found = await technical_accounts.of_structure(ctx, principal, identifiant)
        return {"comptesTechniques": [to_view(a).model_dump(mode="json") for a in found]}

    @router.post("/technical-accounts/{account_id}/rotate", summary="Nouveau secret")
    async def rotate(
        identifiant: str,
        account_id: str,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        account, credentials = await technical_accounts.rotate(
            ctx, principal, identifiant, account_id, cause
        )
        return with_secret(account, credentials)

    @router.post("/technical-accounts/{account_id}/revoke", summary="Révoquer")
    async def revoke(
        identifiant: str,
        account_id: str,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        revoked = await technical_accounts.revoke(ctx, principal, identifiant, account_id, cause)
        return to_view(revoked).model_dump(mode="json")

    return router
