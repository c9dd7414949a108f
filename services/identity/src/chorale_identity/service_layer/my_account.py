"""« Mon compte »: profile, deactivation, and « Gérer mes facteurs d'authentification »."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chorale_identity.domain import accounts, factors
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
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

    ``hashes``: the change runs argon2id, so it runs in a worker thread (argon2-cffi releases
    the GIL) instead of stalling the event loop for ~100 ms.
    """

    async def attempt() -> UserAccount:
        stored = await ctx.accounts.get(user_id)
        if stored is None:
            raise DomainError(ErrorCode.TOKEN_INVALID)
        result = await asyncio.to_thread(change, stored.value) if hashes else change(stored.value)
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


async def deactivate(ctx: IdentityContext, account: UserAccount, password: str, cause: Cause):
    """The user closes their account (password required: a stolen session is not enough).
    A gestionnaire principal hands the role over first."""
    if not await asyncio.to_thread(ctx.hasher.verify, account.password_hash, password):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "Le mot de passe est incorrect.")
    structures = await ctx.gestionnaires.structures_of(account.id)
    if structures:
        raise DomainError(ErrorCode.GP_MUST_TRANSFER_FIRST, details={"structures": structures})
    updated = await change_account(
        ctx, account.id, lambda a: accounts.deactivate(a, ctx.now()), cause
    )
    log.info("user_deactivated", user_id=account.id)
    return updated


async def start_totp(ctx: IdentityContext, user_id: str) -> tuple[UserAccount, str]:
    uri: list[str] = []

    def start(account: UserAccount) -> UserAccount:
        updated, provisioning = factors.start_totp_enrolment(account, ctx.now())
        uri[:] = [provisioning]
        return updated

    account = await change_account(ctx, user_id, start)
    return account, uri[0]


async def confirm_totp(ctx: IdentityContext, user_id: str, code: str) -> UserAccount:
    account = await change_account(
        ctx, user_id, lambda a: factors.confirm_totp_enrolment(a, code, ctx.now())
    )
    log.info("totp_enabled", user_id=user_id)
    return account


async def disable_totp(ctx: IdentityContext, user_id: str, code: str) -> UserAccount:
    account = await change_account(ctx, user_id, lambda a: factors.disable_totp(a, code, ctx.now()))
    log.info("totp_disabled", user_id=user_id)
    return account
