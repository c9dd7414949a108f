"""« Gérer mes facteurs d'authentification »: the TOTP factor on a user account."""

from __future__ import annotations

from datetime import datetime

from .accounts import AccountStatus, UserAccount
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .totp import confirm_enrolment, provisioning_uri, start_enrolment, verify_code


def _require_active(account: UserAccount) -> None:
    if account.status is not AccountStatus.ACTIVE:
        raise DomainError(ErrorCode.ACCOUNT_DEACTIVATED)


def start_totp_enrolment(account: UserAccount, now: datetime) -> tuple[UserAccount, str]:
    """Store an unconfirmed secret; return the account and the ``otpauth://`` URI to scan.

    Starting again replaces an unconfirmed secret (the user lost the QR code); a confirmed
    factor must be disabled first (with a valid code).
    """
    _require_active(account)
    if account.totp_enabled:
        raise DomainError(ErrorCode.TOTP_ALREADY_ENABLED)
    factor = start_enrolment(now)
    uri = provisioning_uri(factor, account.login_email)
    return account.model_copy(update={"totp": factor, "updated_at": require_utc(now)}), uri


def confirm_totp_enrolment(account: UserAccount, code: str, now: datetime) -> UserAccount:
    _require_active(account)
    if account.totp is None:
        raise DomainError(ErrorCode.TOTP_NOT_ENROLLED)
    factor = confirm_enrolment(account.totp, code, now)
    return account.model_copy(update={"totp": factor, "updated_at": require_utc(now)})


def remove_totp(account: UserAccount, now: datetime) -> UserAccount:
    """Remove the factor once the caller has checked a current code (re-authentication)."""
    _require_active(account)
    if account.totp is None:
        raise DomainError(ErrorCode.TOTP_NOT_ENROLLED)
    return account.model_copy(update={"totp": None, "updated_at": require_utc(now)})


def disable_totp(account: UserAccount, code: str, now: datetime) -> UserAccount:
    """Removing the factor needs a current code, so a stolen session alone cannot do it."""
    _require_active(account)
    if account.totp is None:
        raise DomainError(ErrorCode.TOTP_NOT_ENROLLED)
    if account.totp.confirmed:
        verify_code(account.totp, code, now)
    return account.model_copy(update={"totp": None, "updated_at": require_utc(now)})
