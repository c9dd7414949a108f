"""Random opaque tokens and their stored fingerprints.

Opaque tokens (verification links, refresh tokens, technical-account secrets) carry 256 bits
from ``secrets``. Only their SHA-256 is stored: a database leak then yields nothing usable,
and with 256 random bits there is nothing to brute-force, so a slow password hash would add
cost without adding safety. Lookups go by fingerprint; comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def random_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def fingerprint(token: str) -> str:
    """Hex SHA-256 of the token: what is stored and indexed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_fingerprint: str) -> bool:
    return hmac.compare_digest(fingerprint(token), stored_fingerprint)
