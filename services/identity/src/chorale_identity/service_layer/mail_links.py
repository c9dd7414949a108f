"""Sending, minting and using the single-use links: e-mail verification, password reset,
contact e-mail confirmation.

Verification and reset links prove or recover the account, so they go to the login e-mail
only, never to a contact address (whoever typed a contact address at registration could
otherwise take the login over). A contact-confirmation link goes to the new address it proves.

The account document remembers the id of the latest link of each purpose: sending a new link
supersedes the older ones without touching them, and using a link clears it in the same write
as the change it authorises. At most one mail per account per cool-down period, so the
always-202 endpoints cannot be used to flood someone's mailbox.

The event that has notifications send the mail carries only the link id; notifications asks
for the usable link (``mint_link``) at the moment it sends, and puts it in the mail only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chorale_identity.adapters.accounts import LAST_LINK_AT, LINKS, StoredAccount
from chorale_identity.adapters.documents import ConcurrentUpdate
from chorale_identity.domain.accounts import AccountStatus, UserAccount
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.validation import normalise_email
from chorale_identity.domain.verification import (
    ACCOUNT_PURPOSES,
    LinkPurpose,
    VerificationLink,
    consume_link,
    issue_link,
    mint_token,
)
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, verification_requested
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def _path(ctx: IdentityContext, purpose: LinkPurpose) -> str:
    if purpose is LinkPurpose.EMAIL_VERIFICATION:
        return ctx.settings.email_verification_path
    if purpose is LinkPurpose.CONTACT_EMAIL_VERIFICATION:
        return ctx.settings.contact_email_verification_path
    return ctx.settings.password_reset_path


def cooldown_left(ctx: IdentityContext, stored: StoredAccount) -> float:
    """Seconds before this account may be sent another link (0: now)."""
    last = stored.meta.get(LAST_LINK_AT)
    if last is None:
        return 0.0
    cooldown = timedelta(seconds=ctx.settings.link_resend_cooldown_seconds)
    return max(0.0, (last + cooldown - ctx.now()).total_seconds())


def link_fields(
    stored: StoredAccount, purpose: LinkPurpose, issued: VerificationLink | None
) -> dict:
    """The bookkeeping update that records (or, with ``None``, clears) a purpose's link."""
    links = dict(stored.meta.get(LINKS) or {})
    links[purpose.value] = issued.link_id if issued else None
    fields: dict = {LINKS: links}
    if issued is not None:
        fields[LAST_LINK_AT] = issued.created_at
    return fields


def recipient(account: UserAccount, purpose: LinkPurpose) -> str | None:
    """Where a link of ``purpose`` goes: the login for the account's own links, the pending
    contact address for its confirmation (None: nothing to confirm)."""
    if purpose in ACCOUNT_PURPOSES:
        return account.login_email
    return account.pending_contact_email


def new_link_message(
    ctx: IdentityContext,
    stored: StoredAccount,
    purpose: LinkPurpose,
    cause: Cause,
    *,
    force: bool = False,
) -> tuple[VerificationLink, list, dict] | None:
    """A link, its ``user.verification_requested`` event and the account fields to store; None
    during the cool-down after the previous mail (unless ``force``: the caller checked it, or
    the mail follows a single-use link) or when there is no address to send it to."""
    now = ctx.now()
    if not force and cooldown_left(ctx, stored) > 0:
        log.info("link_not_sent_cooldown", user_id=stored.value.id, purpose=purpose.value)
        return None
    to = recipient(stored.value, purpose)
    if to is None:
        return None
    issued = issue_link(stored.value.id, purpose, now, address=to)
    event = verification_requested(
        stored.value, purpose, issued.link_id, issued.expires_at, cause, now, to=to
    )
    return issued, [event], link_fields(stored, purpose, issued)


async def send_link(
    ctx: IdentityContext,
    stored: StoredAccount,
    purpose: LinkPurpose,
    cause: Cause,
    *,
    force: bool = False,
) -> bool:
    """Store a fresh link and the event that has notifications mail it."""
    message = new_link_message(ctx, stored, purpose, cause, force=force)
    if message is None:
        return False
    issued, events, fields = message
    await ctx.links.add(issued)
    await ctx.accounts.save(stored, stored.value, events, fields)
    log.info("link_sent", user_id=stored.value.id, purpose=purpose.value)
    return True


async def send_link_to(
    ctx: IdentityContext,
    email: str,
    purpose: LinkPurpose,
    wanted: AccountStatus,
    cause: Cause,
) -> None:
    """Mail a link to ``email`` if it is the login of an account in state ``wanted``; do
    nothing otherwise. Callers answer the same way whatever happened (no enumeration)."""
    try:
        login = normalise_email(email)
    except DomainError:
        return
    user_id = await ctx.accounts.user_id_for(login)
    if user_id is None:
        log.info("link_for_unknown_login", purpose=purpose.value)
        return
    await send_link_to_user(ctx, user_id, purpose, wanted, cause)


async def send_link_to_user(
    ctx: IdentityContext, user_id: str, purpose: LinkPurpose, wanted: AccountStatus, cause: Cause
) -> None:
    async def attempt() -> None:
        stored = await ctx.accounts.get(user_id)
        if stored is not None and stored.value.status is wanted:
            await send_link(ctx, stored, purpose, cause)

    await retrying(attempt)


async def check_link(
    ctx: IdentityContext, token: str, purpose: LinkPurpose
) -> tuple[VerificationLink, StoredAccount]:
    """The link marked used (not stored yet) and its account; VERIFICATION_LINK_INVALID for
    an unknown, expired, used, superseded or wrong-purpose link."""
    record = await ctx.links.for_token(token)
    used = consume_link(record, token, purpose, ctx.now())
    stored = await ctx.accounts.get(used.user_id)
    if stored is None or _latest(stored, purpose) != used.link_id:
        raise DomainError(ErrorCode.VERIFICATION_LINK_INVALID)
    return used, stored


def _latest(stored: StoredAccount, purpose: LinkPurpose) -> str | None:
    return (stored.meta.get(LINKS) or {}).get(purpose.value)


async def mint_link(ctx: IdentityContext, link_id: str) -> tuple[str, datetime]:
    """The usable URL of a link, for notifications to put in the mail it is sending, and its
    expiry. A new token each time (the previous one stops working). MAIL_LINK_UNAVAILABLE if
    the link is unknown, used, expired or superseded by a newer one."""

    async def attempt() -> tuple[str, datetime]:
        record = await ctx.links.get(link_id)
        stored = await ctx.accounts.get(record.user_id) if record else None
        if record is None or stored is None or _latest(stored, record.purpose) != link_id:
            raise DomainError(ErrorCode.MAIL_LINK_UNAVAILABLE)
        if record.address is not None and record.address != recipient(stored.value, record.purpose):
            raise DomainError(ErrorCode.MAIL_LINK_UNAVAILABLE)  # no longer the address to prove
        token, minted = mint_token(record, ctx.now())
        if not await ctx.links.replace_token(record, minted):
            raise ConcurrentUpdate(f"verification_links/{link_id}")  # used or minted meanwhile
        return ctx.settings.link(_path(ctx, record.purpose), token), record.expires_at

    url, expires_at = await retrying(attempt, times=3)
    log.info("mail_link_minted", link_id=link_id)
    return url, expires_at


async def mark_used(ctx: IdentityContext, used: VerificationLink) -> None:
    if not await ctx.links.mark_used(used):  # a concurrent click won
        raise DomainError(ErrorCode.VERIFICATION_LINK_INVALID)
