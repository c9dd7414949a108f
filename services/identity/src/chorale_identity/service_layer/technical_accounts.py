"""Technical accounts of a structure, managed by its GP and « Organisation » modification
holders. The secret leaves this module once, in the answer to creation or rotation."""

from __future__ import annotations

from chorale_identity.adapters.technical_accounts import StoredTechnicalAccount
from chorale_identity.domain import technical_accounts as domain
from chorale_identity.domain.rattachements import normalise_identifiant
from chorale_identity.domain.technical_accounts import (
    ClientCredentials,
    TechnicalAccount,
    TechnicalAccountStatus,
)
from chorale_identity.service_layer import errors
from chorale_identity.service_layer.access import require_gestionnaire
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_runtime.auth import Principal
from chorale_runtime.errors import ApiError
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


async def _managed_structure(ctx: IdentityContext, principal: Principal, structure: str) -> str:
    identifiant = normalise_identifiant(structure)
    await require_gestionnaire(ctx.authorizer, principal, identifiant)
    if await ctx.structures.get(identifiant) is None:
        raise errors.structure_not_found(identifiant)
    return identifiant


async def create(
    ctx: IdentityContext, principal: Principal, structure: str, libelle: str, cause: Cause
) -> tuple[TechnicalAccount, ClientCredentials]:
    identifiant = await _managed_structure(ctx, principal, structure)
    credentials, t = domain.create_technical_account(
        identifiant_structure=identifiant,
        libelle=libelle,
        created_by=principal.subject,
        now=ctx.now(),
    )
    await ctx.technical.add(t.state, events_of(t, cause, ctx.now()))
    log.info("technical_account_created", technical_account_id=t.state.id, structure=identifiant)
    return t.state, credentials


async def of_structure(
    ctx: IdentityContext, principal: Principal, structure: str
) -> list[TechnicalAccount]:
    identifiant = await _managed_structure(ctx, principal, structure)
    return await ctx.technical.of_structure(identifiant)


async def _load(ctx: IdentityContext, identifiant: str, account_id: str) -> StoredTechnicalAccount:
    stored = await ctx.technical.by_id(account_id)
    if stored is None or stored.value.identifiant_structure != identifiant:
        raise errors.technical_account_not_found()
    if stored.value.status is TechnicalAccountStatus.REVOKED:
        # The domain's 401 is for whoever presents the secret; managing it is a conflict.
        raise ApiError("TECHNICAL_ACCOUNT_REVOKED", "Le compte technique a été révoqué.", 409)
    return stored


async def rotate(
    ctx: IdentityContext, principal: Principal, structure: str, account_id: str, cause: Cause
) -> tuple[TechnicalAccount, ClientCredentials]:
    identifiant = await _managed_structure(ctx, principal, structure)

    async def attempt() -> tuple[TechnicalAccount, ClientCredentials]:
        stored = await _load(ctx, identifiant, account_id)
        credentials, t = domain.rotate_secret(stored.value, ctx.now())
        await ctx.technical.save(stored, t.state, events_of(t, cause, ctx.now()))
        return t.state, credentials

    rotated = await retrying(attempt)
    log.info("technical_account_secret_rotated", technical_account_id=account_id)
    return rotated


async def revoke(
    ctx: IdentityContext, principal: Principal, structure: str, account_id: str, cause: Cause
) -> TechnicalAccount:
    identifiant = await _managed_structure(ctx, principal, structure)

    async def attempt() -> TechnicalAccount:
        stored = await _load(ctx, identifiant, account_id)
        t = domain.revoke(stored.value, by=principal.subject, now=ctx.now())
        await ctx.technical.save(stored, t.state, events_of(t, cause, ctx.now()))
        return t.state

    revoked = await retrying(attempt)
    log.info("technical_account_revoked", technical_account_id=account_id)
    return revoked
