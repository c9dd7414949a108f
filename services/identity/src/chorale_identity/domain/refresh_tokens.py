"""Refresh tokens: opaque, stored hashed, in families with rotation and reuse detection.

A sign-in starts a *family* (one per device/session). Each refresh presents the family's
current token and receives a new one; the old one is retired. Presenting a retired token means
two parties hold the family's tokens (one of them stole it), so the whole family is revoked
and both must sign in again. Logout revokes the family.

Storage: one document per family (an atomic single-document write on MongoDB/FerretDB).
The repository finds a family by ``current_hash`` or by membership in ``previous_hashes``
(both indexed) and saves a rotation with a compare-and-set on the ``current_hash`` it read,
so two concurrent refreshes with the same token cannot both win.

Lifetimes: a refresh token expires after ``IDLE_TTL`` without use; the family after
``FAMILY_TTL`` whatever happens (then the user signs in again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field

from .base import DomainModel, new_id
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .secrets_util import fingerprint, matches, random_token

IDLE_TTL = timedelta(days=7)
FAMILY_TTL = timedelta(days=30)
MAX_REMEMBERED = 100  # retired hashes kept for reuse detection; older ones are just unknown

TOKEN_PREFIX = "rt_"


class RevocationReason(StrEnum):
    LOGOUT = "LOGOUT"
    REUSE_DETECTED = "REUSE_DETECTED"
    SUBJECT_INACTIVE = "SUBJECT_INACTIVE"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"


class RefreshFamily(DomainModel):
    family_id: str
    subject: str
    current_hash: str = Field(repr=False)
    current_expires_at: AwareDatetime
    previous_hashes: tuple[str, ...] = Field(default=(), repr=False)
    generation: int = 0
    created_at: AwareDatetime
    expires_at: AwareDatetime
    last_used_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None
    revoked_reason: RevocationReason | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class RefreshResult:
    """``family``: state to store (also on failure: reuse detection revokes it).
    ``token``: the new refresh token to hand out, ``None`` on failure. ``error``: why not."""

    family: RefreshFamily | None
    token: str | None
    error: DomainError | None
    changed: bool

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        return f"RefreshResult(family={self.family!r}, error={self.error!r})"


def start_family(
    subject: str,
    now: datetime,
    *,
    idle_ttl: timedelta = IDLE_TTL,
    family_ttl: timedelta = FAMILY_TTL,
) -> tuple[RefreshFamily, str]:
    now = require_utc(now)
    token = random_token(TOKEN_PREFIX)
    family = RefreshFamily(
        family_id=new_id(),
        subject=subject,
        current_hash=fingerprint(token),
        current_expires_at=min(now + idle_ttl, now + family_ttl),
        created_at=now,
        expires_at=now + family_ttl,
    )
    return family, token


def revoke_family(
    family: RefreshFamily, now: datetime, reason: RevocationReason = RevocationReason.LOGOUT
) -> RefreshFamily:
    if family.revoked:
        return family
    return family.model_copy(update={"revoked_at": require_utc(now), "revoked_reason": reason})


def _fail(family: RefreshFamily | None, code: ErrorCode, changed: bool = False) -> RefreshResult:
    return RefreshResult(family=family, token=None, error=DomainError(code), changed=changed)


def rotate(
    family: RefreshFamily | None,
    presented: str,
    now: datetime,
    *,
    subject_active: bool = True,
    idle_ttl: timedelta = IDLE_TTL,
) -> RefreshResult:
    """Exchange ``presented`` for a new token of the same family.

    ``subject_active``: the service layer reloads the user (or technical account); a
    deactivated subject's family is revoked and the refresh refused.
    """
    now = require_utc(now)
    if family is None:
        return _fail(None, ErrorCode.TOKEN_INVALID)
    presented_hash = fingerprint(presented or "")
    is_current = matches(presented or "", family.current_hash)
    if not is_current and presented_hash not in family.previous_hashes:
        return _fail(family, ErrorCode.TOKEN_INVALID)
    if family.revoked:
        return _fail(family, ErrorCode.TOKEN_REVOKED)
    if not is_current:
        revoked = revoke_family(family, now, RevocationReason.REUSE_DETECTED)
        return _fail(revoked, ErrorCode.TOKEN_REVOKED, changed=True)
    if not subject_active:
        revoked = revoke_family(family, now, RevocationReason.SUBJECT_INACTIVE)
        return _fail(revoked, ErrorCode.TOKEN_REVOKED, changed=True)
    if now >= family.current_expires_at or now >= family.expires_at:
        return _fail(family, ErrorCode.TOKEN_EXPIRED)

    token = random_token(TOKEN_PREFIX)
    rotated = family.model_copy(
        update={
            "current_hash": fingerprint(token),
            "current_expires_at": min(now + idle_ttl, family.expires_at),
            "previous_hashes": (family.current_hash, *family.previous_hashes)[:MAX_REMEMBERED],
            "generation": family.generation + 1,
            "last_used_at": now,
        }
    )
    return RefreshResult(family=rotated, token=token, error=None, changed=True)
