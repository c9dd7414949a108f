"""Sign-in, refresh, logout, and client credentials for technical accounts.

A failed attempt is stored with a compare-and-set like any change, so concurrent wrong
passwords each count towards the lock; a retry after a lost race re-reads the account but
does not pay argon2id again (``OnceHasher``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chorale_identity import metrics
from chorale_identity.domain.accounts import AccountStatus, UserAccount
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.refresh_tokens import (
    RefreshResult,
    RevocationReason,
    revoke_family,
    rotate,
    start_family,
)
from chorale_identity.domain.sign_in import SignInOutcome, sign_in_decision
from chorale_identity.domain.technical_accounts import authenticate
from chorale_identity.domain.tokens import IssuedAccessToken, SubjectType, issue_access_token
from chorale_identity.domain.validation import normalise_email
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.reauthentication import OnceHasher
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    access: IssuedAccessToken
    refresh_token: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "accessToken": self.access.token,
            "tokenType": "Bearer",
            "expiresIn": self.access.expires_in,
        }
        if self.refresh_token is not None:
            body["refreshToken"] = self.refresh_token
        return body

    def __repr__(self) -> str:
        return f"IssuedTokens(access={self.access!r}, refresh_token='***')"


async def _access_token(
    ctx: IdentityContext, subject: str, typ: SubjectType, **claims: Any
) -> IssuedAccessToken:
    keyset = await ctx.keys.keyset()
    ttl = ctx.settings.access_token_ttl
    return issue_access_token(keyset, subject=subject, typ=typ, now=ctx.now(), ttl=ttl, **claims)


async def _issue_user_tokens(ctx: IdentityContext, account: UserAccount) -> IssuedAccessToken:
    return await _access_token(ctx, account.id, SubjectType.USER, roles=account.roles)


async def sign_in(
    ctx: IdentityContext, email: str, password: str, totp: str | None
) -> IssuedTokens:
    try:
        login: str | None = normalise_email(email)
    except DomainError:
        login = None
    hasher = OnceHasher(ctx.hasher)

    async def attempt() -> SignInOutcome:
        stored = await ctx.accounts.by_login(login) if login else None
        account = stored.value if stored else None
        # argon2id in the bounded pool: the event loop keeps serving while it runs.
        outcome = await ctx.password_work.run(
            sign_in_decision,
            account,
            password,
            totp,
            ctx.now(),
            hasher=hasher,
        )
        if stored is not None and outcome.changed and outcome.account is not None:
            await ctx.accounts.save(stored, outcome.account)
        elif stored is None:  # the same database work as a failure on an existing account
            await ctx.decoys.record_failure(email, ctx.now())
        return outcome

    outcome = await retrying(attempt)
    metrics.record_sign_in(outcome)
    user_id = outcome.account.id if outcome.account else None
    if not outcome.ok:
        log.info(
            "sign_in_refused",
            user_id=user_id,
            reason=outcome.reason.value,
            locked_now=outcome.locked_now,
        )
        assert outcome.error is not None
        raise outcome.error
    assert outcome.account is not None
    settings = ctx.settings
    family, refresh_token = start_family(
        outcome.account.id,
        ctx.now(),
        idle_ttl=timedelta(days=settings.refresh_idle_ttl_days),
        family_ttl=timedelta(days=settings.refresh_family_ttl_days),
    )
    await ctx.refresh.add(family)
    access = await _issue_user_tokens(ctx, outcome.account)
    metrics.TOKENS_ISSUED.labels(metrics.SERVICE, "password").inc()
    log.info("sign_in_succeeded", user_id=user_id, session=family.family_id)
    return IssuedTokens(access, refresh_token)


def _still_valid(account: UserAccount | None, family_created_at: Any) -> bool:
    """The subject may keep refreshing: active, and no password change since the sign-in."""
    if account is None or account.status is not AccountStatus.ACTIVE:
        return False
    changed = account.password_changed_at
    return changed is None or family_created_at >= changed


async def refresh(ctx: IdentityContext, token: str) -> IssuedTokens:
    async def attempt() -> tuple[UserAccount | None, RefreshResult]:
        family = await ctx.refresh.for_token(token)
        stored = await ctx.accounts.get(family.subject) if family else None
        account = stored.value if stored else None
        valid = family is not None and _still_valid(account, family.created_at)
        result = rotate(
            family,
            token,
            ctx.now(),
            subject_active=valid,
            idle_ttl=timedelta(days=ctx.settings.refresh_idle_ttl_days),
        )
        stored_family = result.family
        if (
            stored_family is not None
            and stored_family.revoked_reason is RevocationReason.SUBJECT_INACTIVE
            and account is not None
            and account.status is AccountStatus.ACTIVE
        ):
            stored_family = stored_family.model_copy(
                update={"revoked_reason": RevocationReason.PASSWORD_CHANGED}
            )
        if result.changed and family is not None and stored_family is not None:
            await ctx.refresh.save(family, stored_family)
        return account, result

    account, result = await retrying(attempt)
    if result.error is not None:
        metrics.TOKEN_REFUSALS.labels(metrics.SERVICE, "refresh", result.error.code.value).inc()
        reason = result.family.revoked_reason if result.family else None
        log.info(
            "refresh_refused",
            code=result.error.code.value,
            revoked_reason=reason.value if reason else None,
        )
        raise result.error
    assert account is not None
    metrics.TOKENS_ISSUED.labels(metrics.SERVICE, "refresh").inc()
    return IssuedTokens(await _issue_user_tokens(ctx, account), result.token)


async def logout(ctx: IdentityContext, token: str) -> None:
    """Revoke the session of a refresh token; unknown tokens are ignored (idempotent)."""

    async def attempt() -> None:
        family = await ctx.refresh.for_token(token)
        if family is None or family.revoked:
            return
        await ctx.refresh.save(family, revoke_family(family, ctx.now()))
        log.info("signed_out", user_id=family.subject, session=family.family_id)

    await retrying(attempt)


async def client_credentials(ctx: IdentityContext, client_id: str, secret: str) -> IssuedTokens:
    stored = await ctx.technical.by_client_id(client_id) if client_id else None
    try:
        account = authenticate(stored.value if stored else None, secret, ctx.now())
        if not await ctx.technical.touch(account):
            raise DomainError(ErrorCode.TECHNICAL_ACCOUNT_REVOKED)
    except DomainError as error:
        metrics.TOKEN_REFUSALS.labels(metrics.SERVICE, "client_credentials", error.code.value).inc()
        log.info("client_credentials_refused", code=error.code.value)
        raise
    access = await _access_token(
        ctx, account.id, SubjectType.TECHNICAL, structure=account.identifiant_structure
    )
    metrics.TOKENS_ISSUED.labels(metrics.SERVICE, "client_credentials").inc()
    log.info(
        "technical_token_issued",
        technical_account_id=account.id,
        structure=account.identifiant_structure,
    )
    return IssuedTokens(access)
