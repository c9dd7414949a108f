"""User accounts ("Mon compte") and their pure transitions.

A person is identified by the login e-mail (stored lower-case, unique); notifications go to the
contact e-mail. Only a proven address is ever a contact e-mail: the login (proven by the
verification link), or an address whose own confirmation link was followed. A new contact
address waits in ``pending_contact_email`` until then, and mail keeps going to the previous
one; links that prove or recover the account (verification, reset) go to the login only.
Status: PENDING_VERIFICATION → ACTIVE → DEACTIVATED (by the user; final).
Lockout: 5 failed sign-ins lock the account for 1 hour; the counter resets on a successful
sign-in and once the lock has expired. The sign-in rule set itself is in ``sign_in.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from . import events
from .base import DomainModel, Transition, new_id
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .passwords import PasswordHasher, validate_password
from .totp import TotpFactor
from .validation import clean_name, clean_phone, normalise_email

MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(hours=1)
OPERATOR = "operator"


class AccountStatus(StrEnum):
    PENDING_VERIFICATION = "PENDING_VERIFICATION"
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"


class UserAccount(DomainModel):
    """The stored aggregate. Secret fields are hidden from ``repr``; never serialise this for a
    client: use ``AccountView``."""

    id: str
    login_email: str
    contact_email: str
    pending_contact_email: str | None = None
    prenom: str
    nom: str
    telephone: str | None = None
    mobile: str | None = None
    status: AccountStatus = AccountStatus.PENDING_VERIFICATION
    roles: tuple[str, ...] = ()
    password_hash: str = Field(repr=False)
    totp: TotpFactor | None = Field(default=None, repr=False)
    failed_attempts: int = 0
    locked_until: AwareDatetime | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    verified_at: AwareDatetime | None = None
    deactivated_at: AwareDatetime | None = None
    last_sign_in_at: AwareDatetime | None = None
    last_failed_sign_in_at: AwareDatetime | None = None
    password_changed_at: AwareDatetime | None = None

    @property
    def totp_enabled(self) -> bool:
        return self.totp is not None and self.totp.confirmed

    @property
    def is_operator(self) -> bool:
        return OPERATOR in self.roles


class AccountView(DomainModel):
    """What a client may see of an account (Mon compte, user lists): no secrets, no lockout."""

    id: str
    login_email: str
    contact_email: str
    contact_email_en_attente: str | None
    prenom: str
    nom: str
    telephone: str | None
    mobile: str | None
    status: AccountStatus
    roles: tuple[str, ...]
    totp_enabled: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
    verified_at: AwareDatetime | None


def to_view(account: UserAccount) -> AccountView:
    return AccountView(
        **account.model_dump(
            include=set(AccountView.model_fields) - {"totp_enabled", "contact_email_en_attente"},
            by_alias=False,
        ),
        totp_enabled=account.totp_enabled,
        contact_email_en_attente=account.pending_contact_email,
    )


# -- lifecycle --------------------------------------------------------------------------------


def register(
    *,
    login_email: str,
    password: str,
    prenom: str,
    nom: str,
    now: datetime,
    hasher: PasswordHasher,
    contact_email: str | None = None,
    telephone: str | None = None,
    mobile: str | None = None,
    account_id: str | None = None,
) -> Transition[UserAccount]:
    """A new account waiting for e-mail verification. Its contact e-mail is the login until
    a different ``contact_email`` given here is confirmed by its own link (sent once the login
    is verified): an address nobody proved never receives anything.

    Whether the login e-mail is already taken is for the repository (unique index) and the
    service layer, which must answer exactly as for a new address (no enumeration).
    """
    now = require_utc(now)
    login = normalise_email(login_email)
    validate_password(password, email=login)
    contact = normalise_email(contact_email) if contact_email else login
    account = UserAccount(
        id=account_id or new_id(),
        login_email=login,
        contact_email=login,
        pending_contact_email=contact if contact != login else None,
        prenom=clean_name(prenom, "prénom"),
        nom=clean_name(nom, "nom"),
        telephone=clean_phone(telephone, "téléphone"),
        mobile=clean_phone(mobile, "mobile"),
        password_hash=hasher.hash(password),
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    return Transition(account, events.USER_REGISTERED)


def create_operator(**kwargs: Any) -> Transition[UserAccount]:
    """Back-office operator bootstrapped by the CLI: active at once, role ``operator``."""
    registered = register(**kwargs).state
    now = registered.created_at
    operator = registered.model_copy(
        update={"status": AccountStatus.ACTIVE, "verified_at": now, "roles": (OPERATOR,)}
    )
    return Transition(operator, events.USER_REGISTERED)


def verify_email(account: UserAccount, now: datetime) -> Transition[UserAccount]:
    if account.status is AccountStatus.DEACTIVATED:
        raise DomainError(ErrorCode.ACCOUNT_DEACTIVATED)
    if account.status is AccountStatus.ACTIVE:
        return Transition(account, None)
    now = require_utc(now)
    verified = account.model_copy(
        update={"status": AccountStatus.ACTIVE, "verified_at": now, "updated_at": now}
    )
    return Transition(verified, events.USER_VERIFIED)


def require_not_deactivated(account: UserAccount) -> None:
    if account.status is AccountStatus.DEACTIVATED:
        raise DomainError(ErrorCode.ACCOUNT_DEACTIVATED)


_UNSET = object()


def update_profile(
    account: UserAccount,
    now: datetime,
    *,
    prenom: str | None = None,
    nom: str | None = None,
    telephone: str | object | None = _UNSET,
    mobile: str | object | None = _UNSET,
) -> Transition[UserAccount]:
    """Mon compte: ``None`` leaves a field as it is; an empty phone clears it.

    The login e-mail is the identity and is not changed here; the contact e-mail changes
    through ``request_contact_email`` / ``confirm_contact_email``.
    """
    require_not_deactivated(account)
    changes: dict[str, object] = {}
    if prenom is not None:
        changes["prenom"] = clean_name(prenom, "prénom")
    if nom is not None:
        changes["nom"] = clean_name(nom, "nom")
    if telephone is not _UNSET:
        changes["telephone"] = clean_phone(telephone, "téléphone")  # type: ignore[arg-type]
    if mobile is not _UNSET:
        changes["mobile"] = clean_phone(mobile, "mobile")  # type: ignore[arg-type]
    changes = {k: v for k, v in changes.items() if getattr(account, k) != v}
    if not changes:
        return Transition(account, None)
    updated = account.model_copy(update={**changes, "updated_at": require_utc(now)})
    return Transition(updated, events.USER_PROFILE_UPDATED, {"champs": sorted(changes)})


def set_password(
    account: UserAccount, new_password: str, now: datetime, hasher: PasswordHasher
) -> Transition[UserAccount]:
    """New password (change from Mon compte, or reset by link); lifts any lock.

    The caller checks the current password or consumes the reset link first, and revokes the
    user's refresh-token families afterwards.
    """
    require_not_deactivated(account)
    validate_password(new_password, email=account.login_email)
    now = require_utc(now)
    updated = account.model_copy(
        update={
            "password_hash": hasher.hash(new_password),
            "password_changed_at": now,
            "failed_attempts": 0,
            "locked_until": None,
            "updated_at": now,
        }
    )
    # No event: the contracts have no password-change event (yet).
    return Transition(updated, None)


def deactivate(account: UserAccount, now: datetime) -> Transition[UserAccount]:
    if account.status is AccountStatus.DEACTIVATED:
        return Transition(account, None)
    now = require_utc(now)
    updated = account.model_copy(
        update={
            "status": AccountStatus.DEACTIVATED,
            "deactivated_at": now,
            "updated_at": now,
        }
    )
    return Transition(updated, events.USER_DEACTIVATED)


# -- lockout ----------------------------------------------------------------------------------


def is_locked(account: UserAccount, now: datetime) -> bool:
    return account.locked_until is not None and require_utc(now) < account.locked_until


def clear_expired_lock(account: UserAccount, now: datetime) -> UserAccount:
    """Once the hour has passed the account starts again from zero failures."""
    if account.locked_until is not None and require_utc(now) >= account.locked_until:
        return account.model_copy(update={"failed_attempts": 0, "locked_until": None})
    return account


def record_failed_login(account: UserAccount, now: datetime) -> UserAccount:
    """Count one failure; the 5th locks for an hour. Failures while locked do not extend it."""
    now = require_utc(now)
    account = clear_expired_lock(account, now)
    if is_locked(account, now):
        return account
    attempts = account.failed_attempts + 1
    locked_until = now + LOCK_DURATION if attempts >= MAX_FAILED_ATTEMPTS else None
    return account.model_copy(
        update={"failed_attempts": attempts, "locked_until": locked_until, "updated_at": now}
    )


def record_successful_login(account: UserAccount, now: datetime) -> UserAccount:
    now = require_utc(now)
    return account.model_copy(
        update={"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
    )


def sign_in_blocker(account: UserAccount, now: datetime) -> ErrorCode | None:
    """Why this account may not sign in now, for logs (never shown to the client)."""
    if account.status is AccountStatus.DEACTIVATED:
        return ErrorCode.ACCOUNT_DEACTIVATED
    if account.status is AccountStatus.PENDING_VERIFICATION:
        return ErrorCode.ACCOUNT_NOT_VERIFIED
    if is_locked(account, now):
        return ErrorCode.ACCOUNT_LOCKED
    return None


def can_sign_in(account: UserAccount, now: datetime) -> bool:
    return sign_in_blocker(account, now) is None
