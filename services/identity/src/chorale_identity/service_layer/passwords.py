"""Password reset by e-mailed link, and password change from "Mon compte".

A new password ends every session signed in before it: refresh families older than
``passwordChangedAt`` are refused (and revoked) at their next refresh, without scanning them.
"""

from __future__ import annotations

from chorale_identity.domain import accounts
from chorale_identity.domain.accounts import AccountStatus, UserAccount
from chorale_identity.domain.passwords import validate_password
from chorale_identity.domain.verification import LinkPurpose
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause
from chorale_identity.service_layer.mail_links import (
    check_link,
    link_fields,
    mark_used,
    send_link_to,
)
from chorale_identity.service_layer.reauthentication import Proof, change_with_proof
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


async def request_reset(ctx: IdentityContext, email: str, cause: Cause) -> None:
    """Always answered the same way; mails a link only to an existing, active account."""
    await send_link_to(ctx, email, LinkPurpose.PASSWORD_RESET, AccountStatus.ACTIVE, cause)


async def confirm_reset(ctx: IdentityContext, token: str, new_password: str) -> None:
    used, stored = await check_link(ctx, token, LinkPurpose.PASSWORD_RESET)
    # Refuse a weak password before using the link up, so the user can try again with it.
    validate_password(new_password, email=stored.value.login_email)
    await mark_used(ctx, used)

    async def attempt() -> None:
        current = await ctx.accounts.get(used.user_id)
        assert current is not None
        changed = await ctx.password_work.run(
            accounts.set_password, current.value, new_password, ctx.now(), ctx.hasher
        )
        fields = link_fields(current, LinkPurpose.PASSWORD_RESET, None)
        await ctx.accounts.save(current, changed.state, (), fields)

    await retrying(attempt)
    log.info("password_reset_done", user_id=used.user_id)


async def change_password(
    ctx: IdentityContext, account: UserAccount, proof: Proof, new_password: str
) -> None:
    validate_password(new_password, email=account.login_email)  # before paying argon2 twice
    await change_with_proof(
        ctx,
        account.id,
        proof,
        lambda a: accounts.set_password(a, new_password, ctx.now(), ctx.hasher),
        action="password_change",
    )
    log.info("password_changed", user_id=account.id)
