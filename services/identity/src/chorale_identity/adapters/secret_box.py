"""Encryption at rest of the secrets identity must read back: private signing keys and TOTP
seeds (what it only compares, passwords and tokens, is hashed instead).

AES-256-GCM under the *secrets key*: ``CHORALE_SECRETS_KEY`` when set (production: from a
secret store), else the key file ``CHORALE_SECRETS_KEY_FILE``, which the service creates with
mode 0600 on its first start. A sealed value reads
``sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``; the key id (first 8 hex digits
of the key's SHA-256) says which key sealed it, and the value is bound to what it protects
(``context``, e.g. ``totp:<user id>``) so that it cannot be copied onto another record.

Several keys may be given (one per line in the file, comma-separated in the setting): the
first seals, all of them open. That is how the secrets key is rotated: put a new key first,
restart (stored secrets are re-sealed with it at start), then remove the old one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chorale_runtime.logging import get_logger

log = get_logger(__name__)

PREFIX = "sealed:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretsUnreadable(Exception):
    """The secrets key is missing, malformed, or not the one the stored secrets need."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_keys(texts: Sequence[str], origin: str) -> tuple[bytes, ...]:
    keys = []
    for text in texts:
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        try:
            key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise SecretsUnreadable(f"{origin}: each key must be {KEY_BYTES} bytes in base64")
        keys.append(key)
    if not keys:
        raise SecretsUnreadable(f"{origin}: no key")
    return tuple(keys)


def read_or_create_key_file(path: Path, *, create: bool) -> tuple[bytes, ...]:
    """The keys of ``path``; on the very first start (``create``) a new file, mode 0600."""
    origin = f"CHORALE_SECRETS_KEY_FILE ({path})"
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # O_EXCL: of two replicas starting together, one writes the key, the other reads it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(f"# Chorale identity secrets key, created at first start. Back it up.\n"
                          f"{new_key_text()}\n")
            log.warning("secrets_key_file_created", path=str(path))
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise SecretsUnreadable(f"{origin} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsUnreadable(f"{origin} cannot be read: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secrets_key_file_readable_by_others", path=str(path), mode=oct(mode & 0o777))
    return parse_keys(text.splitlines(), origin)


class SecretBox:
    """Seals and opens secrets; the keys are read on first use (``source``)."""

    def __init__(self, source: Callable[[], tuple[bytes, ...]]):
        self._source = source
        self._keys: dict[str, AESGCM] | None = None
        self._current = ""

    @classmethod
    def of_keys(cls, *keys: bytes) -> SecretBox:
        return cls(lambda: keys)

    def _load(self) -> dict[str, AESGCM]:
        if self._keys is None:
            keys = self._source()
            self._current = key_id(keys[0])
            self._keys = {key_id(k): AESGCM(k) for k in keys}
        return self._keys

    @property
    def current_key_id(self) -> str:
        self._load()
        return self._current

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(PREFIX)

    def is_current(self, value: str) -> bool:
        """Sealed with the key that seals now (nothing to re-seal)."""
        return value.startswith(f"{PREFIX}{self.current_key_id}:")

    def seal(self, clear: bytes, context: str) -> str:
        keys = self._load()
        nonce = os.urandom(NONCE_BYTES)
        box = keys[self._current].encrypt(nonce, clear, context.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + box).decode("ascii")
        return f"{PREFIX}{self._current}:{body}"

    def open(self, sealed: str, context: str) -> bytes:
        keys = self._load()
        kid, _, body = sealed.removeprefix(PREFIX).partition(":")
        cipher = keys.get(kid)
        if cipher is None:
            raise SecretsUnreadable(
                f"stored secrets were sealed with key {kid}, which the configured secrets key "
                f"(id {self._current}) is not: set CHORALE_SECRETS_KEY or "
                "CHORALE_SECRETS_KEY_FILE to the key this database was sealed with"
            )
        try:
            raw = base64.urlsafe_b64decode(body)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8"))
        except (InvalidTag, binascii.Error, ValueError):
            raise SecretsUnreadable(f"a stored secret ({context}) does not decrypt") from None

    def seal_text(self, clear: str, context: str) -> str:
        return self.seal(clear.encode("utf-8"), context)

    def open_text(self, value: str, context: str) -> str:
        """A sealed value opened; a clear value (stored by an earlier version) as it is."""
        if not self.is_sealed(value):
            return value
        return self.open(value, context).decode("utf-8")


def secret_box_from_settings(settings, *, create_key_file: bool) -> SecretBox:
    """``create_key_file``: the service creates a missing key file; the admin command must
    not (run elsewhere, it would make a key the database was never sealed with)."""

    def source() -> tuple[bytes, ...]:
        if settings.secrets_key is not None:
            return parse_keys(
                settings.secrets_key.get_secret_value().split(","), "CHORALE_SECRETS_KEY"
            )
        return read_or_create_key_file(Path(settings.secrets_key_file), create=create_key_file)

    return SecretBox(source)
