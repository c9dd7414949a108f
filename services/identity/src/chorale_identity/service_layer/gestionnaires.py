"""Gestionnaire principal: operator designation (public structures), transfer by the current
GP only, and the private structure's creator (from ``structure.created``).

Every write goes through the GP document of the structure: an insert for the first GP, a
compare-and-set afterwards. A lost race is retried from a fresh read, where the domain rules
see the winner (a second designation meets GP_ALREADY_DESIGNATED, a second transfer
NOT_GESTIONNAIRE_PRINCIPAL), so exactly one GP results whatever the concurrency.
"""

from __future__ import annotations

import uuid
from typing import Any

from chorale_contracts import Envelope
from chorale_contracts.events.common import Application, Mode
from chorale_contracts.events.structures import StructureCreated
from chorale_identity.adapters.documents import AlreadyExists, ConcurrentUpdate
from chorale_identity.domain import gestionnaire as domain
from chorale_identity.domain.accounts import AccountStatus
from chorale_identity.domain.base import Transition
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.gestionnaire import GestionnairePrincipal, StructureType
from chorale_identity.domain.rattachements import (
    RattachementStatus,
    is_attached,
    normalise_identifiant,
)
from chorale_identity.service_layer import errors
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_identity.service_layer.rattachements import approve_as_system, attach
from chorale_runtime.auth import Principal
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

_CREATOR_RATTACHEMENT = uuid.UUID("5b0f3f4e-7c1d-4f7a-9a55-2a4c3d9e1b60")


async def _store(
    ctx: IdentityContext, stored: Any, t: Transition[GestionnairePrincipal], cause: Cause
) -> None:
    if t.event is None:
        return
    events = events_of(t, cause, ctx.now())
    if stored is None:
        try:
            await ctx.gestionnaires.add(t.state, events)
        except AlreadyExists:
            raise ConcurrentUpdate(t.state.identifiant_structure) from None
    else:
        await ctx.gestionnaires.save(stored, t.state, events)
    log.info(
        t.event.replace(".", "_"), structure=t.state.identifiant_structure, user_id=t.state.user_id
    )


async def ensure_structure_level(
    ctx: IdentityContext,
    user_id: str,
    identifiant: str,
    by: str,
    cause: Cause,
    rattachement_id: str | None = None,
) -> None:
    """A VALIDEE rattachement to the structure itself; a pending request is approved."""
    live = await ctx.rattachements.live(user_id, identifiant, None)
    if live is not None and live.status is RattachementStatus.VALIDEE:
        return
    if live is not None and by != user_id:
        await approve_as_system(ctx, live.id, by, cause)
        return
    try:
        await attach(ctx, user_id, identifiant, None, by, cause, rattachement_id=rattachement_id)
    except DomainError as error:
        if error.code is not ErrorCode.RATTACHEMENT_EXISTS:
            raise


async def designate(
    ctx: IdentityContext,
    principal: Principal,
    structure: str,
    user_id: str,
    replace: bool,
    cause: Cause,
) -> GestionnairePrincipal:
    identifiant = normalise_identifiant(structure)
    if not principal.is_operator:
        raise DomainError(ErrorCode.FORBIDDEN, "Action réservée aux opérateurs de la plateforme.")
    known = await ctx.structures.get(identifiant)
    if known is None:
        raise errors.structure_not_found(identifiant)
    target = await ctx.accounts.get(user_id)
    if target is None:
        raise errors.user_not_found()

    async def attempt() -> GestionnairePrincipal:
        stored = await ctx.gestionnaires.get(identifiant)
        t = domain.designate_by_operator(
            identifiant_structure=identifiant,
            type_structure=StructureType(known.type_structure),
            user_id=user_id,
            operator_id=principal.subject,
            operator_roles=principal.roles,
            current=stored.value if stored else None,
            now=ctx.now(),
            target_active=target.value.status is AccountStatus.ACTIVE,
            replace=replace,
        )
        await _store(ctx, stored, t, cause)
        return t.state

    gp = await retrying(attempt)
    await ensure_structure_level(ctx, user_id, identifiant, principal.subject, cause)
    return gp


async def transfer(
    ctx: IdentityContext, principal: Principal, structure: str, to_user_id: str, cause: Cause
) -> GestionnairePrincipal:
    identifiant = normalise_identifiant(structure)

    async def attempt() -> GestionnairePrincipal:
        stored = await ctx.gestionnaires.get(identifiant)
        if stored is None:
            raise DomainError(ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL)
        target = await ctx.accounts.get(to_user_id)
        t = domain.transfer_gp(
            stored.value,
            by_user_id=principal.subject,
            to_user_id=to_user_id,
            target_rattachements=await ctx.rattachements.of_user(to_user_id, identifiant),
            now=ctx.now(),
            target_active=target is not None and target.value.status is AccountStatus.ACTIVE,
        )
        await _store(ctx, stored, t, cause)
        return t.state

    return await retrying(attempt)


async def read(ctx: IdentityContext, principal: Principal, structure: str) -> GestionnairePrincipal:
    """Operators, people attached to the structure and « Organisation » holders may see it."""
    identifiant = normalise_identifiant(structure)
    attached = is_attached(
        principal.subject,
        identifiant,
        await ctx.rattachements.of_user(principal.subject, identifiant),
    )
    if not attached:
        await ctx.authorizer.require(
            principal, identifiant, Application.ORGANISATION, Mode.CONSULTATION
        )
    stored = await ctx.gestionnaires.get(identifiant)
    if stored is None:
        raise errors.gestionnaire_not_found(identifiant)
    return stored.value


async def creator_becomes_gp(
    ctx: IdentityContext, envelope: Envelope, event: StructureCreated
) -> None:
    """``structure.created`` of a private structure with its creator: the creator is attached
    to it and becomes its GP. Replays find both done (deterministic rattachement id)."""
    if event.typeStructure.value != StructureType.PRIVEE or not event.createdBy:
        return
    identifiant = normalise_identifiant(event.identifiant)
    creator = event.createdBy
    cause = Cause.of_event(envelope)
    rattachement_id = str(uuid.uuid5(_CREATOR_RATTACHEMENT, str(envelope.event_id)))
    await ensure_structure_level(
        ctx, event.createdBy, identifiant, event.createdBy, cause, rattachement_id
    )

    async def attempt() -> None:
        stored = await ctx.gestionnaires.get(identifiant)
        try:
            t = domain.creator_becomes_gp(
                identifiant_structure=identifiant,
                type_structure=StructureType.PRIVEE,
                creator_user_id=creator,
                current=stored.value if stored else None,
                now=ctx.now(),
            )
        except DomainError as error:  # another GP already: keep it, say so
            log.warning("creator_not_made_gp", structure=identifiant, code=error.code.value)
            return
        await _store(ctx, stored, t, cause)

    await retrying(attempt)
