"""Mask secrets before anything is logged.

``redact`` returns a copy of any JSON-like structure in which the value of every key that
names a secret (password, secret, token, authorization, cookie, TOTP/OTP code, API key, hash…)
is replaced by ``"***"``, and any string that looks like a JWT, a bearer credential, one of our
opaque tokens or a ``?token=`` URL parameter is masked wherever it appears.
``structlog_processor`` plugs it into structlog; every service's logs go through it
(``chorale_runtime.logging``), including identity's own token formats (``rt_…``, ``tas_…``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

_SENSITIVE_PARTS = (
    "password",
    "passwd",
    "motdepasse",
    "secret",
    "token",
    "authorization",
    "cookie",
    "totp",
    "apikey",
    "credential",
    "hash",
    "privatekey",
    "link",  # verification and reset links carry their token
    "lien",
)
# Too short to search inside other words ("otp" is in "footprint"), so whole keys only. A bare
# "code" is not masked: it is the error code of every DomainError and the Kafka "key" is the
# aggregate id; TOTP codes travel as "totp"/"totpCode"/"otp".
_SENSITIVE_KEYS = frozenset(
    {"otp", "otpcode", "mdp", "pass", "pwd", "jwt", "bearer", "pem", "mongodburi"}
)

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_OPAQUE = re.compile(r"\b(?:rt|tas)_[A-Za-z0-9_-]{20,}")
_QUERY = re.compile(r"(?i)([?&#](?:token|secret|code|password)=)[^&#\s]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    normalised = _normalise_key(key)
    if normalised in _SENSITIVE_KEYS:
        return True
    return any(part in normalised for part in _SENSITIVE_PARTS)


def redact_string(value: str) -> str:
    value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
    value = _QUERY.sub(lambda m: m.group(1) + MASK, value)
    value = _JWT.sub(MASK, value)
    return _OPAQUE.sub(MASK, value)


_MAX_DEPTH = 12  # past it, a structure (perhaps cyclic) is not logged at all


def redact(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH and isinstance(value, Mapping | tuple | list | set | frozenset):
        return MASK
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_sensitive_key(k) and v is not None else redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, tuple):
        return tuple(redact(v, depth + 1) for v in value)
    if isinstance(value, list | set | frozenset):
        return [redact(v, depth + 1) for v in value]
    if isinstance(value, str):
        return redact_string(value)
    return value


def structlog_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return redact(event_dict)
