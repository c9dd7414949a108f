"""The whole sign-in rule set for people, as one pure decision.

Every failure a stranger could provoke — unknown e-mail, wrong password, locked, deactivated or
unverified account — gets the same public answer, INVALID_CREDENTIALS with the same message,
and costs the same single argon2id verification (the dummy one for an unknown e-mail). The
precise reason travels separately in ``SignInOutcome.reason`` for logs and metrics.

Only after the correct password on a usable account does the answer become specific:
TOTP_REQUIRED (no code given) or TOTP_INVALID; someone who gets that far knows the password.
A wrong TOTP code counts as a failed attempt, so the 5-failure lock also caps code guessing.

``reauthentication_decision`` is the same proof asked again of someone already signed in,
before a sensitive change (password, contact e-mail, second factor, deactivation): a stolen
access token alone must not turn into a permanent takeover. Its failures count toward the
same lockout as sign-in, so these endpoints are no password oracle either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .accounts import (
    UserAccount,
    clear_expired_lock,
    is_locked,
    record_failed_login,
    record_successful_login,
    sign_in_blocker,
)
from .clock import require_utc
from .errors import DomainError, ErrorCode, invalid_credentials
from .passwords import PasswordHasher
from .totp import verify_code


class SignInReason(StrEnum):
    """For logs and metrics only."""

    OK = "OK"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    ACCOUNT_DEACTIVATED = "ACCOUNT_DEACTIVATED"
    ACCOUNT_NOT_VERIFIED = "ACCOUNT_NOT_VERIFIED"
    TOTP_REQUIRED = "TOTP_REQUIRED"
    TOTP_INVALID = "TOTP_INVALID"


_BLOCKER_REASON = {
    ErrorCode.ACCOUNT_DEACTIVATED: SignInReason.ACCOUNT_DEACTIVATED,
    ErrorCode.ACCOUNT_NOT_VERIFIED: SignInReason.ACCOUNT_NOT_VERIFIED,
    ErrorCode.ACCOUNT_LOCKED: SignInReason.ACCOUNT_LOCKED,
}


@dataclass(frozen=True)
class SignInOutcome:
    """``account``: the state to store when ``changed`` (counter, lock, TOTP step, rehash).

    ``error``: what the client is told (None on success). ``reason``: what the logs say.
    ``locked_now``: this attempt is the one that locked the account (worth an alert).
    """

    account: UserAccount | None
    error: DomainError | None
    reason: SignInReason
    changed: bool = False
    locked_now: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _failure(
    before: UserAccount | None,
    after: UserAccount | None,
    reason: SignInReason,
    error: DomainError | None = None,
) -> SignInOutcome:
    locked_now = (
        before is not None
        and after is not None
        and after.locked_until is not None
        and after.locked_until != before.locked_until
    )
    return SignInOutcome(
        account=after,
        error=error or invalid_credentials(),
        reason=reason,
        changed=after is not None and after != before,
        locked_now=locked_now,
    )


def sign_in_decision(
    account: UserAccount | None,
    password: str,
    totp_code: str | None,
    now: datetime,
    *,
    hasher: PasswordHasher,
) -> SignInOutcome:
    """Every failure on an existing account changes it (``last_failed_sign_in_at`` at least),
    so it is always stored: a blocked account costs the same write as a counted failure, and
    the service layer pays an equivalent write for an unknown address (``SignInDecoys``)."""
    outcome = _decide(account, password, totp_code, require_utc(now), hasher)
    if outcome.ok or outcome.account is None:
        return outcome
    stamped = outcome.account.model_copy(update={"last_failed_sign_in_at": require_utc(now)})
    return replace(outcome, account=stamped, changed=True)


def _decide(
    account: UserAccount | None,
    password: str,
    totp_code: str | None,
    now: datetime,
    hasher: PasswordHasher,
) -> SignInOutcome:
    if account is None:
        hasher.dummy_verify(password)
        return _failure(None, None, SignInReason.UNKNOWN_ACCOUNT)

    # Verify first, whatever the account's state, so every path costs one argon2 verification.
    password_ok = hasher.verify(account.password_hash, password)
    current = clear_expired_lock(account, now)

    blocker = sign_in_blocker(current, now)
    if blocker is not None:
        return _failure(account, current, _BLOCKER_REASON[blocker])
    if not password_ok:
        return _failure(account, record_failed_login(current, now), SignInReason.WRONG_PASSWORD)

    if current.totp is not None and current.totp.confirmed:
        if not totp_code:
            return _failure(
                account, current, SignInReason.TOTP_REQUIRED, DomainError(ErrorCode.TOTP_REQUIRED)
            )
        try:
            factor = verify_code(current.totp, totp_code, now)
        except DomainError as error:
            return _failure(
                account, record_failed_login(current, now), SignInReason.TOTP_INVALID, error
            )
        current = current.model_copy(update={"totp": factor})

    current = record_successful_login(current, now)
    if hasher.needs_rehash(current.password_hash):
        current = current.model_copy(update={"password_hash": hasher.hash(password)})
    return SignInOutcome(account=current, error=None, reason=SignInReason.OK, changed=True)


REAUTH_WRONG_PASSWORD = "Le mot de passe actuel est incorrect."
REAUTH_LOCKED = (
    "Trop d'essais infructueux : le compte est verrouillé pendant une heure. "
    "Réessayez plus tard ou réinitialisez votre mot de passe."
)


def reauthentication_decision(
    account: UserAccount,
    password: str,
    totp_code: str | None,
    now: datetime,
    *,
    hasher: PasswordHasher,
) -> SignInOutcome:
    """Does the signed-in person still hold the password (and the second factor, when on)?

    The caller is authenticated, so the answers may be specific (wrong password, locked,
    code required or wrong): there is no address to enumerate. Each wrong password or code
    counts toward the sign-in lockout; while locked even the right password is refused. A
    success clears the counter and consumes the TOTP step (no replay), like a sign-in, but
    is not a sign-in (``last_sign_in_at`` unchanged).
    """
    now = require_utc(now)
    password_ok = hasher.verify(account.password_hash, password)
    current = clear_expired_lock(account, now)
    if is_locked(current, now):
        error = DomainError(ErrorCode.ACCOUNT_LOCKED, REAUTH_LOCKED)
        return _failure(account, current, SignInReason.ACCOUNT_LOCKED, error)
    if not password_ok:
        error = DomainError(ErrorCode.INVALID_CREDENTIALS, REAUTH_WRONG_PASSWORD)
        return _failure(
            account, record_failed_login(current, now), SignInReason.WRONG_PASSWORD, error
        )
    if current.totp_enabled:
        assert current.totp is not None
        if not totp_code:
            error = DomainError(ErrorCode.TOTP_REQUIRED)
            return _failure(account, current, SignInReason.TOTP_REQUIRED, error)
        try:
            factor = verify_code(current.totp, totp_code, now)
        except DomainError as error:
            return _failure(
                account, record_failed_login(current, now), SignInReason.TOTP_INVALID, error
            )
        current = current.model_copy(update={"totp": factor})
    current = current.model_copy(update={"failed_attempts": 0, "locked_until": None})
    return SignInOutcome(
        account=current, error=None, reason=SignInReason.OK, changed=current != account
    )
