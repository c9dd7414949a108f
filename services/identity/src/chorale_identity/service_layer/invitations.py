"""« Rattacher un utilisateur » as an invitation the person accepts (issue 14).

The gestionnaire's answer is the same whatever the address: an account or not, active or
not (``202`` and the invitation, which holds nothing about any account). The work is the
same too: one read of the login claim, one insert. When the address is an account's login,
``rattachement.invited`` has notifications tell the person (at their contact e-mail); an
address without an account is told nothing — Chorale does not write to addresses nobody
proved, so a gestionnaire cannot use it to send mail anywhere — but an account created later
with that login sees the invitation (``GET /v1/me/invitations``) until it expires.
"""

from __future__ import annotations

from typing import Any

from chorale_identity.adapters.documents import AlreadyExists, ConcurrentUpdate
from chorale_identity.domain import invitations as domain
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.events import RATTACHEMENT_INVITED
from chorale_identity.domain.invitations import Invitation
from chorale_identity.domain.rattachements import Rattachement
from chorale_identity.domain.validation import normalise_email
from chorale_identity.service_layer import rattachements
from chorale_identity.service_layer.access import require_gestionnaire
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_runtime.auth import Principal
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

INVITED = (
    "Invitation enregistrée. Si cette adresse est celle d'un compte Chorale, la personne la "
    "verra dans son compte et pourra l'accepter ou la refuser ; le rattachement n'existera "
    "qu'après son acceptation."
)


def invitation_view(invitation: Invitation) -> dict[str, Any]:
    return invitation.model_dump(mode="json")


async def invite(
    ctx: IdentityContext,
    principal: Principal,
    structure: str,
    email: str,
    code_service: str | None,
    commentaire: str | None,
    cause: Cause,
) -> Invitation:
    known = await rattachements.known_target(ctx, structure, code_service)
    await require_gestionnaire(ctx.authorizer, principal, known.identifiant, code_service)
    address = normalise_email(email)
    await _refuse_self_invitation(ctx, principal, known.identifiant, address)
    invitation = domain.invite(
        email=address,
        identifiant_structure=known.identifiant,
        code_service=code_service,
        commentaire=commentaire,
        invited_by=principal.subject,
        now=ctx.now(),
    )
    user_id = await ctx.accounts.user_id_for(address)
    events = (
        events_of(
            Transition(invitation, RATTACHEMENT_INVITED, {"userId": user_id}), cause, ctx.now()
        )
        if user_id
        else []
    )
    for _ in range(3):
        try:
            await ctx.invitations.add(invitation, events)
            log.info("invitation_sent", invitation_id=invitation.id, structure=known.identifiant)
            return invitation
        except AlreadyExists:
            holder = await ctx.invitations.holding_key(invitation)
            if holder is None:
                continue  # answered meanwhile: the key is free again
            if holder.value.is_open(ctx.now()):
                return holder.value  # inviting again is a no-op, and answers the same
            await ctx.invitations.save(holder, domain.expire(holder.value, ctx.now()))
    raise ConcurrentUpdate()


async def _refuse_self_invitation(
    ctx: IdentityContext, principal: Principal, structure: str, address: str
) -> None:
    """Attaching oneself stays reserved to the GP and operators (as before invitations)."""
    if principal.is_technical or principal.is_operator:
        return
    me = await ctx.accounts.get(principal.subject)
    if me is None or me.value.login_email != address:
        return
    if await ctx.gestionnaires.user_of(structure) != principal.subject:
        raise DomainError(ErrorCode.FORBIDDEN, "Vous ne pouvez pas vous rattacher vous-même.")


async def mine(ctx: IdentityContext, account: UserAccount) -> list[dict[str, Any]]:
    """The open invitations for this person's login, most recent first, with names."""
    now = ctx.now()
    found = [i for i in await ctx.invitations.for_email(account.login_email) if i.is_open(now)]
    names = await ctx.structures.many(i.identifiant_structure for i in found)
    rows = []
    for invitation in sorted(found, key=lambda i: i.created_at, reverse=True):
        known = names.get(invitation.identifiant_structure)
        rows.append(
            {
                **invitation_view(invitation),
                "raisonSociale": known.raison_sociale if known else None,
            }
        )
    return rows


async def accept(
    ctx: IdentityContext, account: UserAccount, invitation_id: str, cause: Cause
) -> Rattachement:
    """Create the rattachement (VALIDEE, origin DIRECT, decided by the gestionnaire who
    invited) under the invitation's id, then close the invitation. A crash between the two
    leaves the invitation open; accepting again finds the rattachement and closes it."""
    stored = await ctx.invitations.get(invitation_id)
    if stored is None:
        raise DomainError(ErrorCode.INVITATION_NOT_FOUND)
    accepted = domain.accept(stored.value, account.login_email, ctx.now())
    known = await rattachements.known_target(
        ctx, accepted.identifiant_structure, accepted.code_service
    )
    try:
        created = await rattachements.attach(
            ctx,
            account.id,
            known.identifiant,
            accepted.code_service,
            accepted.invited_by,
            cause,
            accepted.commentaire,
            rattachement_id=accepted.id,
        )
    except DomainError as error:
        if error.details.get("rattachementId") != accepted.id:
            raise
        existing = await ctx.rattachements.get(accepted.id)
        assert existing is not None
        created = existing.value
    await _close(ctx, invitation_id, lambda i: domain.accept(i, account.login_email, ctx.now()))
    log.info("invitation_accepted", invitation_id=invitation_id, user_id=account.id)
    return created


async def decline(ctx: IdentityContext, account: UserAccount, invitation_id: str) -> Invitation:
    closed = await _close(
        ctx, invitation_id, lambda i: domain.decline(i, account.login_email, ctx.now())
    )
    log.info("invitation_declined", invitation_id=invitation_id, user_id=account.id)
    return closed


async def _close(ctx: IdentityContext, invitation_id: str, decide) -> Invitation:
    async def attempt() -> Invitation:
        stored = await ctx.invitations.get(invitation_id)
        if stored is None:
            raise DomainError(ErrorCode.INVITATION_NOT_FOUND)
        closed = decide(stored.value)
        await ctx.invitations.save(stored, closed)
        return closed

    return await retrying(attempt)
