"""Single-use links: e-mail verification and password reset, valid 60 minutes.

The link carries a random URL-safe token; only its SHA-256 is stored (``VerificationLink``),
so whoever reads the database cannot use pending links. Expired, already used, unknown or
wrong-purpose tokens all give the same VERIFICATION_LINK_INVALID.

Issuing a new link does not cancel older ones by itself; the service layer should supersede
the user's previous pending links of the same purpose (``supersede``) when it issues one.
For a password reset on an unknown e-mail the service layer answers exactly as for a known
one and simply sends nothing (no enumeration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field

from .base import DomainModel
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .secrets_util import fingerprint, matches, random_token

LINK_TTL = timedelta(minutes=60)


class LinkPurpose(StrEnum):
    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
    PASSWORD_RESET = "PASSWORD_RESET"
    CONTACT_EMAIL_VERIFICATION = "CONTACT_EMAIL_VERIFICATION"


# Links that prove or recover the account itself: they only ever go to the login e-mail.
ACCOUNT_PURPOSES = frozenset({LinkPurpose.EMAIL_VERIFICATION, LinkPurpose.PASSWORD_RESET})


class VerificationLink(DomainModel):
    token_hash: str = Field(repr=False)
    user_id: str
    purpose: LinkPurpose
    created_at: AwareDatetime
    expires_at: AwareDatetime
    used_at: AwareDatetime | None = None
    # The address the link was mailed to (a contact e-mail confirms exactly that address).
    address: str | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and require_utc(now) < self.expires_at


@dataclass(frozen=True)
class IssuedLink:
    """``token`` goes into the e-mail once and is never stored; ``record`` is stored."""

    token: str
    record: VerificationLink

    def __repr__(self) -> str:
        return f"IssuedLink(token='***', record={self.record!r})"


def issue_link(
    user_id: str,
    purpose: LinkPurpose,
    now: datetime,
    ttl: timedelta = LINK_TTL,
    *,
    address: str | None = None,
) -> IssuedLink:
    now = require_utc(now)
    token = random_token()
    record = VerificationLink(
        token_hash=fingerprint(token),
        user_id=user_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + ttl,
        address=address,
    )
    return IssuedLink(token=token, record=record)


def consume_link(
    record: VerificationLink | None, token: str, purpose: LinkPurpose, now: datetime
) -> VerificationLink:
    """Check the presented token against the stored record (looked up by ``fingerprint``)
    and return the record marked used. The service layer stores it with a conditional update
    on ``used_at`` being null, so two concurrent clicks cannot both succeed."""
    now = require_utc(now)
    if (
        record is None
        or not matches(token or "", record.token_hash)
        or record.purpose is not purpose
        or not record.is_usable(now)
    ):
        raise DomainError(ErrorCode.VERIFICATION_LINK_INVALID)
    return record.model_copy(update={"used_at": now})


def supersede(record: VerificationLink, now: datetime) -> VerificationLink:
    """Retire a pending link because a newer one was sent."""
    if record.used_at is not None:
        return record
    return record.model_copy(update={"used_at": require_utc(now)})
