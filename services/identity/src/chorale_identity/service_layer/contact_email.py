"""Changing the contact e-mail (where notifications go): current password (and TOTP code),
then a link mailed to the new address; only following it makes the address the contact
e-mail. Until then mail keeps going to the last proven address, so a stolen session cannot
redirect the account's notifications, and nobody can name an address they do not read.
"""

from __future__ import annotations

from chorale_identity.domain import contact_email as rules
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.validation import normalise_email
from chorale_identity.domain.verification import LinkPurpose
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_identity.service_layer.mail_links import (
    check_link,
    cooldown_left,
    link_fields,
    mark_used,
    send_link,
)
from chorale_identity.service_layer.reauthentication import Proof, change_with_proof
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

CONFIRM = LinkPurpose.CONTACT_EMAIL_VERIFICATION


async def request_change(
    ctx: IdentityContext, user_id: str, address: str, proof: Proof, cause: Cause
) -> UserAccount:
    wanted = normalise_email(address)
    stored = await ctx.accounts.get(user_id)
    if stored is None:
        raise DomainError(ErrorCode.TOKEN_INVALID)
    needs_link = wanted not in (stored.value.contact_email, stored.value.login_email)
    wait = cooldown_left(ctx, stored) if needs_link else 0
    if wait > 0:  # the person's own account: no enumeration to fear, say when to retry
        raise DomainError(ErrorCode.LINK_COOLDOWN, details={"retryAfter": int(wait) + 1})

    def change(account: UserAccount):
        return rules.contact_email_changed(
            account, rules.request_contact_email(account, wanted, ctx.now())
        )

    account = await change_with_proof(ctx, user_id, proof, change, cause, action="contact_email")
    if account.pending_contact_email == wanted:

        async def mail() -> None:
            fresh = await ctx.accounts.get(user_id)
            if fresh is not None and fresh.value.pending_contact_email == wanted:
                await send_link(ctx, fresh, CONFIRM, cause, force=True)

        await retrying(mail)
        log.info("contact_email_change_requested", user_id=user_id)
    return account


async def send_pending_confirmation(ctx: IdentityContext, user_id: str, cause: Cause) -> None:
    """Once the login is verified, the contact address given at registration (if different)
    gets its own confirmation link."""

    async def mail() -> None:
        stored = await ctx.accounts.get(user_id)
        if stored is not None and stored.value.pending_contact_email:
            await send_link(ctx, stored, CONFIRM, cause, force=True)

    await retrying(mail)


async def confirm(ctx: IdentityContext, user_id: str, token: str, cause: Cause) -> UserAccount:
    """The signed-in person follows the link mailed to their new contact address."""
    used, stored = await check_link(ctx, token, CONFIRM)
    if used.user_id != user_id or used.address is None:
        raise DomainError(ErrorCode.VERIFICATION_LINK_INVALID)
    rules.confirm_contact_email(stored.value, used.address, ctx.now())  # still wanted?
    await mark_used(ctx, used)

    async def attempt() -> UserAccount:
        current = await ctx.accounts.get(user_id)
        assert current is not None
        transition = rules.confirm_contact_email(current.value, used.address or "", ctx.now())
        fields = link_fields(current, CONFIRM, None)
        events = events_of(transition, cause, ctx.now())
        return (await ctx.accounts.save(current, transition.state, events, fields)).value

    account = await retrying(attempt)
    log.info("contact_email_confirmed", user_id=user_id)
    return account
