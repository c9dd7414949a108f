"""Optional TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, via pyotp).

* Enrolment creates an unconfirmed factor; it only protects sign-in once a first code has
  confirmed that the user's authenticator app holds the secret.
* A code is accepted for the current step and one step either side (clock drift).
* Replay: the last accepted time step is kept; a code for that step or an earlier one is
  refused, so a code seen over a shoulder or in a proxy log cannot be used again.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
from pydantic import AwareDatetime, Field

from .base import DomainModel
from .clock import require_utc
from .errors import DomainError, ErrorCode

ISSUER = "Chorale"
DIGITS = 6
INTERVAL_SECONDS = 30
WINDOW_STEPS = 1

_CODE = re.compile(r"^\d{6}$")


class TotpFactor(DomainModel):
    secret: str = Field(repr=False, min_length=16)
    created_at: AwareDatetime
    confirmed_at: AwareDatetime | None = None
    last_used_step: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_SECONDS)


def start_enrolment(now: datetime) -> TotpFactor:
    """A fresh 160-bit secret (32 base32 characters), not yet confirmed."""
    return TotpFactor(secret=pyotp.random_base32(), created_at=require_utc(now))


def provisioning_uri(factor: TotpFactor, account_name: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI the user scans as a QR code."""
    return _totp(factor.secret).provisioning_uri(name=account_name, issuer_name=issuer)


def current_step(now: datetime) -> int:
    return int(require_utc(now).timestamp()) // INTERVAL_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator shows at ``now`` (for tests and the CLI)."""
    return _totp(secret).generate_otp(current_step(now))


def verify_code(factor: TotpFactor, code: str, now: datetime) -> TotpFactor:
    """Accept ``code`` once; return the factor with its last used step moved forward.

    Raises TOTP_INVALID for a malformed, wrong, out-of-window or replayed code.
    """
    normalised = (code or "").replace(" ", "")
    if not _CODE.match(normalised):
        raise DomainError(ErrorCode.TOTP_INVALID)
    totp = _totp(factor.secret)
    now_step = current_step(now)
    floor = factor.last_used_step if factor.last_used_step is not None else -1
    matched: int | None = None
    # Compare against every candidate step (no early exit) so timing does not say which one.
    for step in range(now_step - WINDOW_STEPS, now_step + WINDOW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), normalised) and step > floor:
            matched = step if matched is None else max(matched, step)
    if matched is None:
        raise DomainError(ErrorCode.TOTP_INVALID)
    return factor.model_copy(update={"last_used_step": matched})


def confirm_enrolment(factor: TotpFactor, code: str, now: datetime) -> TotpFactor:
    if factor.confirmed:
        raise DomainError(ErrorCode.TOTP_ALREADY_ENABLED)
    checked = verify_code(factor, code, now)
    return checked.model_copy(update={"confirmed_at": require_utc(now)})
