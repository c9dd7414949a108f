"""Rattachements: request, direct attachment (an accepted invitation, see ``invitations``;
the GP designation), approval, refusal, detachment, "Mes rattachements". Structures and
services are checked against identity's read model of the structures topic; the live-key
unique index settles concurrent duplicates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chorale_identity.adapters.documents import AlreadyExists
from chorale_identity.adapters.structures import KnownStructure
from chorale_identity.domain import rattachements as domain
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.gestionnaire import ensure_can_detach
from chorale_identity.domain.rattachements import Rattachement, normalise_identifiant
from chorale_identity.service_layer import errors
from chorale_identity.service_layer.access import require_gestionnaire
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_runtime.auth import Principal
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


async def known_target(
    ctx: IdentityContext, structure: str, code_service: str | None
) -> KnownStructure:
    identifiant = normalise_identifiant(structure)
    known = await ctx.structures.get(identifiant)
    if known is None:
        raise errors.structure_not_found(identifiant)
    if not known.active:
        raise errors.structure_inactive(identifiant)
    code = (code_service or "").strip()
    if code:
        service = await ctx.structures.service(identifiant, code)
        if service is None:
            raise errors.service_not_found(identifiant, code)
        if not service.active:
            raise errors.service_inactive(identifiant, code)
    return known


async def _insert(ctx: IdentityContext, t: Transition[Rattachement], cause: Cause) -> Rattachement:
    r = t.state
    try:
        await ctx.rattachements.add(r, events_of(t, cause, ctx.now()))
    except AlreadyExists:
        live = await ctx.rattachements.live(r.user_id, r.identifiant_structure, r.code_service)
        details = {"rattachementId": live.id, "statut": live.status.value} if live else {}
        raise DomainError(ErrorCode.RATTACHEMENT_EXISTS, details=details) from None
    log.info(
        t.event.replace(".", "_") if t.event else "rattachement_saved",
        rattachement_id=r.id,
        user_id=r.user_id,
        structure=r.identifiant_structure,
        code_service=r.code_service,
    )
    return r


async def request(
    ctx: IdentityContext,
    account: UserAccount,
    structure: str,
    code_service: str | None,
    commentaire: str | None,
    cause: Cause,
) -> Rattachement:
    known = await known_target(ctx, structure, code_service)
    existing = await ctx.rattachements.of_user(account.id, known.identifiant)
    t = domain.request_rattachement(
        user_id=account.id,
        identifiant_structure=known.identifiant,
        now=ctx.now(),
        existing=existing,
        code_service=code_service,
        commentaire=commentaire,
    )
    return await _insert(ctx, t, cause)


async def attach(
    ctx: IdentityContext,
    user_id: str,
    identifiant: str,
    code_service: str | None,
    by: str,
    cause: Cause,
    commentaire: str | None = None,
    rattachement_id: str | None = None,
) -> Rattachement:
    existing = await ctx.rattachements.of_user(user_id, identifiant)
    t = domain.attach_directly(
        user_id=user_id,
        identifiant_structure=identifiant,
        attached_by=by,
        now=ctx.now(),
        existing=existing,
        code_service=code_service,
        commentaire=commentaire,
    )
    if rattachement_id is not None:  # deterministic, for event handlers that may replay
        t = Transition(t.state.model_copy(update={"id": rattachement_id}), t.event, t.details)
    return await _insert(ctx, t, cause)


Guard = Callable[[Rattachement], Awaitable[None]]
Decide = Callable[[Rattachement], Awaitable[Transition[Rattachement]]]


def gestionnaire_guard(ctx: IdentityContext, principal: Principal, *, self_allowed: bool = False):
    """Only a gestionnaire of the rattachement's structure or service (or, for detaching, the
    attached user) may change it."""

    async def guard(r: Rattachement) -> None:
        if self_allowed and r.user_id == principal.subject:
            return
        await require_gestionnaire(
            ctx.authorizer, principal, r.identifiant_structure, r.code_service
        )

    return guard


async def _change(
    ctx: IdentityContext, rattachement_id: str, cause: Cause, guard: Guard, decide: Decide
) -> Rattachement:
    async def attempt() -> Rattachement:
        stored = await ctx.rattachements.get(rattachement_id)
        if stored is None:
            raise DomainError(ErrorCode.RATTACHEMENT_NOT_FOUND)
        await guard(stored.value)
        t = await decide(stored.value)
        await ctx.rattachements.save(stored, t.state, events_of(t, cause, ctx.now()))
        return t.state

    changed = await retrying(attempt)
    log.info("rattachement_changed", rattachement_id=changed.id, statut=changed.status.value)
    return changed


async def approve(
    ctx: IdentityContext, principal: Principal, rid: str, commentaire: str | None, cause: Cause
) -> Rattachement:
    async def decide(r: Rattachement) -> Transition[Rattachement]:
        return domain.approve(
            r, decided_by=principal.subject, now=ctx.now(), commentaire=commentaire
        )

    return await _change(ctx, rid, cause, gestionnaire_guard(ctx, principal), decide)


async def approve_as_system(ctx: IdentityContext, rid: str, by: str, cause: Cause) -> Rattachement:
    """Approve a pending request on behalf of ``by``, whose right the caller checked (an
    operator designating this user as GP)."""

    async def anyone(_r: Rattachement) -> None:
        return None

    async def decide(r: Rattachement) -> Transition[Rattachement]:
        return domain.approve(r, decided_by=by, now=ctx.now())

    return await _change(ctx, rid, cause, anyone, decide)


async def refuse(
    ctx: IdentityContext, principal: Principal, rid: str, commentaire: str, cause: Cause
) -> Rattachement:
    async def decide(r: Rattachement) -> Transition[Rattachement]:
        return domain.refuse(
            r, decided_by=principal.subject, now=ctx.now(), commentaire=commentaire
        )

    return await _change(ctx, rid, cause, gestionnaire_guard(ctx, principal), decide)


async def detach(
    ctx: IdentityContext, principal: Principal, rid: str, cause: Cause
) -> Rattachement:
    """« Me détacher », or a gestionnaire removing someone; the GP transfers the role first."""

    async def decide(r: Rattachement) -> Transition[Rattachement]:
        current = await ctx.gestionnaires.get(r.identifiant_structure)
        others = await ctx.rattachements.of_user(r.user_id, r.identifiant_structure)
        ensure_can_detach(r, current.value if current else None, others)
        own = r.user_id == principal.subject
        return domain.detach(r, by=principal.subject, now=ctx.now(), by_gestionnaire=not own)

    guard = gestionnaire_guard(ctx, principal, self_allowed=True)
    return await _change(ctx, rid, cause, guard, decide)


async def mine(ctx: IdentityContext, user_id: str) -> list[dict[str, Any]]:
    """« Mes rattachements », most recent first, with the structures' raison sociale."""
    found = await ctx.rattachements.of_user(user_id)
    names = await ctx.structures.many(r.identifiant_structure for r in found)
    rows = []
    for r in sorted(found, key=lambda r: r.created_at, reverse=True):
        known = names.get(r.identifiant_structure)
        rows.append(
            {**r.model_dump(mode="json"), "raisonSociale": known.raison_sociale if known else None}
        )
    return rows
