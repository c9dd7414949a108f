"""Technical accounts ("comptes techniques") for the EDI/API channel.

A technical account (``id``: a UUID, the ``sub`` of its access tokens) belongs to one structure
and signs in with client credentials: a public client id (``ta_…``) and a secret (``tas_…``,
256 random bits) shown once at creation or rotation. The secret is stored as SHA-256, not
argon2: a 256-bit random value cannot be guessed whatever the hash speed, so a slow hash would
only make every API call cost an argon2 verification for no gain. (Passwords are different: people
choose them, so they get argon2id.)

Rotation replaces the secret (the old one stops working at once); revocation is final. Access
tokens for a technical account carry ``typ`` "technical" and the structure identifier.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from . import events
from .base import DomainModel, Transition, new_id
from .clock import require_utc
from .errors import DomainError, ErrorCode, invalid_credentials
from .rattachements import normalise_identifiant
from .secrets_util import fingerprint, matches, random_token

CLIENT_ID_PREFIX = "ta_"
SECRET_PREFIX = "tas_"
LABEL_MAX = 100

# Compared against when the client id is unknown, so that path costs the same.
_DUMMY_HASH = fingerprint(random_token(SECRET_PREFIX))


class TechnicalAccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class TechnicalAccount(DomainModel):
    id: str
    client_id: str
    identifiant_structure: str
    libelle: str
    status: TechnicalAccountStatus = TechnicalAccountStatus.ACTIVE
    secret_hash: str = Field(repr=False)
    created_by: str
    created_at: AwareDatetime
    secret_rotated_at: AwareDatetime
    revoked_by: str | None = None
    revoked_at: AwareDatetime | None = None
    last_used_at: AwareDatetime | None = None


class TechnicalAccountView(DomainModel):
    """For lists and API answers: everything but the secret's hash."""

    id: str
    client_id: str
    identifiant_structure: str
    libelle: str
    status: TechnicalAccountStatus
    created_by: str
    created_at: AwareDatetime
    secret_rotated_at: AwareDatetime
    revoked_at: AwareDatetime | None
    last_used_at: AwareDatetime | None


def to_view(account: TechnicalAccount) -> TechnicalAccountView:
    return TechnicalAccountView.model_validate(
        account.model_dump(by_alias=False, exclude={"secret_hash", "revoked_by"})
    )


@dataclass(frozen=True)
class ClientCredentials:
    """Returned once, to be shown once. Never stored, never logged."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret='***')"


def _label(value: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned or len(cleaned) > LABEL_MAX:
        raise DomainError(
            ErrorCode.INPUT_INVALID,
            "Le libellé du compte technique est invalide.",
            {"champ": "libelle"},
        )
    return cleaned


def create_technical_account(
    *, identifiant_structure: str, libelle: str, created_by: str, now: datetime
) -> tuple[ClientCredentials, Transition[TechnicalAccount]]:
    """Authorisation (GP or "Organisation modification" holder) is the service layer's."""
    now = require_utc(now)
    client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(16)
    secret = random_token(SECRET_PREFIX)
    account = TechnicalAccount(
        id=new_id(),
        client_id=client_id,
        identifiant_structure=normalise_identifiant(identifiant_structure),
        libelle=_label(libelle),
        secret_hash=fingerprint(secret),
        created_by=created_by,
        created_at=now,
        secret_rotated_at=now,
    )
    return ClientCredentials(client_id, secret), Transition(
        account, events.TECHNICAL_ACCOUNT_CREATED
    )


def _require_active(account: TechnicalAccount) -> None:
    if account.status is TechnicalAccountStatus.REVOKED:
        raise DomainError(ErrorCode.TECHNICAL_ACCOUNT_REVOKED)


def rotate_secret(
    account: TechnicalAccount, now: datetime
) -> tuple[ClientCredentials, Transition[TechnicalAccount]]:
    _require_active(account)
    secret = random_token(SECRET_PREFIX)
    rotated = account.model_copy(
        update={"secret_hash": fingerprint(secret), "secret_rotated_at": require_utc(now)}
    )
    return ClientCredentials(account.client_id, secret), Transition(
        rotated, events.TECHNICAL_ACCOUNT_SECRET_ROTATED
    )


def revoke(account: TechnicalAccount, *, by: str, now: datetime) -> Transition[TechnicalAccount]:
    _require_active(account)
    revoked = account.model_copy(
        update={
            "status": TechnicalAccountStatus.REVOKED,
            "revoked_by": by,
            "revoked_at": require_utc(now),
        }
    )
    return Transition(revoked, events.TECHNICAL_ACCOUNT_REVOKED)


def authenticate(
    account: TechnicalAccount | None, client_secret: str, now: datetime
) -> TechnicalAccount:
    """Check client credentials; return the account with ``last_used_at`` updated.

    Unknown client id or wrong secret: INVALID_CREDENTIALS, with the same constant-time
    comparison either way. A revoked account says so only to whoever holds its secret.
    """
    stored = account.secret_hash if account is not None else _DUMMY_HASH
    secret_ok = matches(client_secret or "", stored)
    if account is None or not secret_ok:
        raise invalid_credentials()
    _require_active(account)
    return account.model_copy(update={"last_used_at": require_utc(now)})
