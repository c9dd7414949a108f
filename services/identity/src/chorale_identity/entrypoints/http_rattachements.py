"""Rattachements and « Approbations »."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.rattachements import Rattachement, RattachementStatus
from chorale_identity.entrypoints.deps import Deps
from chorale_identity.entrypoints.schemas import DecisionBody, DirectAttachBody, RattachementBody
from chorale_identity.service_layer import approbations, invitations, members, rattachements
from chorale_identity.service_layer.approbations import ApprobationFilter
from chorale_identity.service_layer.events import Cause
from chorale_runtime.auth import Principal
from chorale_runtime.errors import ApiError


def out(r: Rattachement) -> dict:
    return r.model_dump(mode="json")


def _etats(values: list[str] | None) -> tuple[RattachementStatus, ...] | None:
    if not values:
        return None
    wanted = [v.strip() for value in values for v in value.split(",") if v.strip()]
    try:
        return tuple(RattachementStatus(v) for v in wanted)
    except ValueError:
        raise ApiError(
            "INPUT_INVALID",
            "État inconnu.",
            422,
            {"champ": "etat", "valeurs": [s.value for s in RattachementStatus]},
        ) from None


Etats = Annotated[list[str] | None, Query(description="EN_COURS_DE_VALIDATION, VALIDEE, …")]
Format = Annotated[str, Query(pattern="^(json|csv)$", description="json ou csv")]


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(tags=["rattachements"])
    ctx = deps.ctx

    @router.post("/v1/rattachements", status_code=201, summary="Demander un rattachement")
    async def request(
        body: RattachementBody, account: UserAccount = deps.user, cause: Cause = deps.cause
    ) -> dict:
        return out(
            await rattachements.request(
                ctx, account, body.structure, body.codeService, body.commentaire, cause
            )
        )

    @router.post("/v1/rattachements/{rid}/approve", summary="Approuver une demande")
    async def approve(
        rid: str,
        body: DecisionBody | None = None,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        comment = body.commentaire if body else None
        return out(await rattachements.approve(ctx, principal, rid, comment, cause))

    @router.post("/v1/rattachements/{rid}/refuse", summary="Refuser une demande (motif requis)")
    async def refuse(
        rid: str,
        body: DecisionBody,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        return out(await rattachements.refuse(ctx, principal, rid, body.commentaire or "", cause))

    @router.post("/v1/rattachements/{rid}/detach", summary="Me détacher / détacher quelqu'un")
    async def detach(
        rid: str, principal: Principal = deps.principal, cause: Cause = deps.cause
    ) -> dict:
        return out(await rattachements.detach(ctx, principal, rid, cause))

    @router.post(
        "/v1/structures/{identifiant}/rattachements",
        status_code=202,
        summary="Rattacher un utilisateur (invitation que la personne accepte)",
    )
    async def invite(
        identifiant: str,
        body: DirectAttachBody,
        principal: Principal = deps.principal,
        cause: Cause = deps.cause,
    ) -> dict:
        # The same answer whether or not the address has an account (no enumeration).
        invitation = await invitations.invite(
            ctx, principal, identifiant, body.email, body.codeService, body.commentaire, cause
        )
        return {"message": invitations.INVITED, **invitations.invitation_view(invitation)}

    @router.post("/v1/invitations/{iid}/accept", summary="Accepter une invitation")
    async def accept(iid: str, account: UserAccount = deps.user, cause: Cause = deps.cause) -> dict:
        return out(await invitations.accept(ctx, account, iid, cause))

    @router.post("/v1/invitations/{iid}/decline", summary="Refuser une invitation")
    async def decline(iid: str, account: UserAccount = deps.user) -> dict:
        return invitations.invitation_view(await invitations.decline(ctx, account, iid))

    @router.get(
        "/v1/structures/{identifiant}/approbations",
        summary="Approbations (CSV possible)",
        response_model=None,
    )
    async def list_approbations(
        identifiant: str,
        etat: Etats = None,
        service: str | None = None,
        demandeur: str | None = None,
        texte: str | None = None,
        format: Format = "json",
        principal: Principal = deps.principal,
    ) -> Response | dict:
        wanted = ApprobationFilter(_etats(etat), service, demandeur, texte)
        rows = await approbations.approbations(ctx, principal, identifiant, wanted)
        if format == "csv":
            return Response(
                approbations.as_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="approbations-{identifiant}.csv"'
                },
            )
        return {"approbations": [row.model_dump(mode="json") for row in rows]}

    @router.get(
        "/v1/me/approbations",
        summary="Mes approbations : toutes les structures que je gère (CSV possible)",
        response_model=None,
    )
    async def my_approbations(
        etat: Etats = None,
        structure: str | None = None,
        service: str | None = None,
        demandeur: str | None = None,
        texte: str | None = None,
        format: Format = "json",
        account: UserAccount = deps.user,
    ) -> Response | dict:
        wanted = ApprobationFilter(_etats(etat), service, demandeur, texte)
        managed, rows, waiting = await approbations.my_approbations(
            ctx, account, wanted, structure
        )
        if format == "csv":
            return Response(
                approbations.as_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="approbations.csv"'},
            )
        return {
            "approbations": [row.model_dump(mode="json") for row in rows],
            "structures": [m.view() for m in managed],
            "enAttente": waiting,
        }

    @router.get(
        "/v1/structures/{identifiant}/utilisateurs",
        summary="Utilisateurs rattachés à la structure (gestionnaires)",
    )
    async def structure_members(identifiant: str, principal: Principal = deps.principal) -> dict:
        return {"utilisateurs": await members.members(ctx, principal, identifiant)}

    return router
