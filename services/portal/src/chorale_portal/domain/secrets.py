"""What makes a portal session safe at rest: the session id exists only in the person's
cookie; the database keeps its SHA-256 (the record's id) and the service tokens sealed with a
key derived from the id. Someone who reads the database can neither find the cookie nor use a
token; someone who steals the cookie still meets the session's idle and absolute limits.

CSRF: every form carries HMAC(seed, "csrf"), where the seed is the session id once signed in,
or a random value in a separate HttpOnly cookie before (sign-up, sign-in, forgotten password).
A page on another site can neither read the seed nor compute the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_SEAL_CONTEXT = b"chorale-portal/session-seal/v1"
_CSRF_CONTEXT = b"chorale-portal/csrf/v1"


def new_secret() -> str:
    """A 256-bit random value, URL-safe (session ids, CSRF seeds, pending sign-ins)."""
    return secrets.token_urlsafe(32)


def record_id(secret: str) -> str:
    """The database id of what `secret` opens: its SHA-256, never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _SEAL_CONTEXT, hashlib.sha256).digest()


def seal(secret: str, data: dict) -> str:
    """Encrypt and authenticate `data` under a key only `secret` gives (AES-256-GCM)."""
    nonce = os.urandom(12)
    box = AESGCM(_key(secret)).encrypt(nonce, json.dumps(data).encode(), _SEAL_CONTEXT)
    return base64.urlsafe_b64encode(nonce + box).decode()


def unseal(secret: str, sealed: str) -> dict | None:
    """What `seal` sealed, or None if the secret is wrong or the data was tampered with."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        clear = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], _SEAL_CONTEXT)
        return json.loads(clear)
    except Exception:
        return None


def csrf_token(seed: str) -> str:
    return hmac.new(seed.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_valid(seed: str | None, presented: str | None) -> bool:
    if not seed or not presented:
        return False
    return hmac.compare_digest(csrf_token(seed), presented)
