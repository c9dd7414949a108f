"""« Mon compte »: profile, deactivation, and « Gérer mes facteurs d'authentification »."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chorale_identity.domain import accounts, factors
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_identity.service_layer.reauthentication import Proof, change_with_proof
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

Change = Callable[[UserAccount], Transition[UserAccount] | UserAccount]


async def change_account(
    ctx: IdentityContext,
    user_id: str,
    change: Change,
    cause: Cause | None = None,
    *,
    hashes: bool = False,
) -> UserAccount:
    """Read, apply ``change`` (a domain transition or a new state), store with its event.

    ``hashes``: the change runs argon2id, so it runs in the bounded argon2 pool (worker
    threads; argon2-cffi releases the GIL) instead of stalling the event loop.
    """

    async def attempt() -> UserAccount:
        stored = await ctx.accounts.get(user_id)
        if stored is None:
            raise DomainError(ErrorCode.TOKEN_INVALID)
        result = (
            await ctx.password_work.run(change, stored.value) if hashes else change(stored.value)
        )
        transition = result if isinstance(result, Transition) else Transition(result, None)
        if transition.state == stored.value:
            return stored.value
        events = events_of(transition, cause, ctx.now()) if cause else []
        return (await ctx.accounts.save(stored, transition.state, events)).value

    return await retrying(attempt)


async def update_profile(
    ctx: IdentityContext, user_id: str, changes: dict[str, Any], cause: Cause
) -> UserAccount:
    """``changes``: only the fields the client sent (an empty phone clears it)."""
    return await change_account(
        ctx, user_id, lambda a: accounts.update_profile(a, ctx.now(), **changes), cause
    )


async def deactivate(ctx: IdentityContext, account: UserAccount, proof: Proof, cause: Cause):
    """The user closes their account (password, and code if TOTP is on: a stolen session is
    not enough). A gestionnaire principal hands the role over first (told only after the
    proof)."""
    structures = await ctx.gestionnaires.structures_of(account.id)

    def close(current: UserAccount) -> Transition[UserAccount]:
        if structures:
            raise DomainError(ErrorCode.GP_MUST_TRANSFER_FIRST, details={"structures": structures})
        return accounts.deactivate(current, ctx.now())

    updated = await change_with_proof(ctx, account.id, proof, close, cause, action="deactivate")
    log.info("user_deactivated", user_id=account.id)
    return updated


async def start_totp(ctx: IdentityContext, user_id: str, proof: Proof) -> tuple[UserAccount, str]:
    uri: list[str] = []

    def start(account: UserAccount) -> UserAccount:
        updated, provisioning = factors.start_totp_enrolment(account, ctx.now())
        uri[:] = [provisioning]
        return updated

    account = await change_with_proof(ctx, user_id, proof, start, action="totp_start")
    return account, uri[0]


async def confirm_totp(ctx: IdentityContext, user_id: str, code: str) -> UserAccount:
    account = await change_account(
        ctx, user_id, lambda a: factors.confirm_totp_enrolment(a, code, ctx.now())
    )
    log.info("totp_enabled", user_id=user_id)
    return account


async def disable_totp(ctx: IdentityContext, user_id: str, proof: Proof) -> UserAccount:
    """The proof's code is the factor's current code (checked once, replay-proof)."""

    def disable(account: UserAccount) -> UserAccount:
        return factors.remove_totp(account, ctx.now())

    account = await change_with_proof(ctx, user_id, proof, disable, action="totp_disable")
    log.info("totp_disabled", user_id=user_id)
    return account
