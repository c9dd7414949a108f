"""Single-use links: e-mail verification, password reset and contact e-mail confirmation, valid
60 minutes.

A link is issued as a record with an opaque ``link_id`` and no usable token: the
``user.verification_requested`` event carries only that id. When notifications sends the mail
it asks identity to *mint* the token (``mint_token``): ``<link_id>.<256 random bits>``, of
which only the SHA-256 is stored. So no usable token rests anywhere (Kafka, the DLQ, the
delivery log, this database); minting again replaces the token (a retried or re-sent mail
carries a working link, the previous one stops working).

Expired, already used, unknown, never minted or wrong-purpose tokens all give the same
VERIFICATION_LINK_INVALID. For a password reset on an unknown e-mail the service layer answers
exactly as for a known one and simply sends nothing (no enumeration).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field

from .base import DomainModel
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .secrets_util import fingerprint, matches, random_token

LINK_TTL = timedelta(minutes=60)
SEPARATOR = "."  # never in a URL-safe base64 token or link id


class LinkPurpose(StrEnum):
    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
    PASSWORD_RESET = "PASSWORD_RESET"
    CONTACT_EMAIL_VERIFICATION = "CONTACT_EMAIL_VERIFICATION"


# Links that prove or recover the account itself: they only ever go to the login e-mail.
ACCOUNT_PURPOSES = frozenset({LinkPurpose.EMAIL_VERIFICATION, LinkPurpose.PASSWORD_RESET})


class VerificationLink(DomainModel):
    link_id: str
    token_hash: str | None = Field(default=None, repr=False)
    user_id: str
    purpose: LinkPurpose
    created_at: AwareDatetime
    expires_at: AwareDatetime
    minted_at: AwareDatetime | None = None
    used_at: AwareDatetime | None = None
    # The address the link was mailed to (a contact e-mail confirms exactly that address).
    address: str | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and require_utc(now) < self.expires_at


def issue_link(
    user_id: str,
    purpose: LinkPurpose,
    now: datetime,
    ttl: timedelta = LINK_TTL,
    *,
    address: str | None = None,
) -> VerificationLink:
    now = require_utc(now)
    return VerificationLink(
        link_id=secrets.token_urlsafe(16),
        user_id=user_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + ttl,
        address=address,
    )


def link_id_of(token: str) -> str:
    """The link a token belongs to. A token of an earlier version (no separator) was stored
    under its fingerprint."""
    link_id, separator, _ = token.partition(SEPARATOR)
    return link_id if separator else fingerprint(token)


def mint_token(record: VerificationLink | None, now: datetime) -> tuple[str, VerificationLink]:
    """A new usable token for the link, and the record that stores only its fingerprint.
    MAIL_LINK_UNAVAILABLE if the link is unknown, used or expired."""
    if record is None or not record.is_usable(now):
        raise DomainError(ErrorCode.MAIL_LINK_UNAVAILABLE)
    token = f"{record.link_id}{SEPARATOR}{random_token()}"
    minted = record.model_copy(
        update={"token_hash": fingerprint(token), "minted_at": require_utc(now)}
    )
    return token, minted


def consume_link(
    record: VerificationLink | None, token: str, purpose: LinkPurpose, now: datetime
) -> VerificationLink:
    """Check the presented token against the stored record (looked up by ``link_id_of``)
    and return the record marked used. The service layer stores it with a conditional update
    on ``used_at`` being null, so two concurrent clicks cannot both succeed."""
    now = require_utc(now)
    if (
        record is None
        or record.token_hash is None
        or not matches(token or "", record.token_hash)
        or record.purpose is not purpose
        or not record.is_usable(now)
    ):
        raise DomainError(ErrorCode.VERIFICATION_LINK_INVALID)
    return record.model_copy(update={"used_at": now})
