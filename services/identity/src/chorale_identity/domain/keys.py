"""Ed25519 signing keys for access tokens, their rotation, and the JWKS document.

* ``kid`` is the RFC 7638 JWK thumbprint of the public key: stable, derived from the key itself,
  so every replica holding the same PEM announces the same ``kid``.
* Rotation: ``KeySet.rotate`` makes a new key the signing key and keeps the old ones as
  verifying keys. Keep a retired key in the JWKS for at least the access-token lifetime
  (15 minutes) plus verifiers' JWKS cache time, then ``prune`` it.
* Private keys are PKCS#8 PEM (optionally encrypted); public keys SubjectPublicKeyInfo PEM.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638: SHA-256 of the canonical JSON of the required members, base64url."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(public_key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


@dataclass(frozen=True)
class VerifyingKey:
    kid: str
    public_key: Ed25519PublicKey = field(repr=False)

    def to_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(_raw_public(self.public_key)),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> VerifyingKey:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("not an Ed25519 OKP key")
        if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
            raise ValueError("not an EdDSA signature key")
        public_key = Ed25519PublicKey.from_public_bytes(_b64url_decode(str(jwk["x"])))
        return cls(kid=str(jwk.get("kid") or thumbprint(public_key)), public_key=public_key)

    def to_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def verifying(self) -> VerifyingKey:
        return VerifyingKey(self.kid, self.private_key.public_key())

    def to_pem(self, password: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, pem: bytes | str, password: bytes | None = None) -> SigningKey:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM does not hold an Ed25519 private key")
        return cls(kid=thumbprint(key.public_key()), private_key=key)


def generate_signing_key() -> SigningKey:
    key = Ed25519PrivateKey.generate()
    return SigningKey(kid=thumbprint(key.public_key()), private_key=key)


def public_key_from_pem(pem: bytes | str) -> VerifyingKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the PEM does not hold an Ed25519 public key")
    return VerifyingKey(kid=thumbprint(key), public_key=key)


@dataclass(frozen=True)
class KeySet:
    """The signing key plus the retired keys that still verify tokens they signed."""

    current: SigningKey
    previous: tuple[VerifyingKey, ...] = ()

    @classmethod
    def from_pems(
        cls, current_pem: bytes | str, previous_pems: Iterable[bytes | str] = ()
    ) -> KeySet:
        previous = tuple(public_key_from_pem(p) for p in previous_pems)
        return cls(SigningKey.from_pem(current_pem), previous)

    def rotate(self, new_key: SigningKey | None = None, keep: int = 2) -> KeySet:
        """Sign with ``new_key`` from now on; keep at most ``keep`` retired verifying keys."""
        new_key = new_key or generate_signing_key()
        retired = (self.current.verifying, *self.previous)
        return KeySet(new_key, tuple(k for k in retired if k.kid != new_key.kid)[:keep])

    def prune(self, keep: int = 0) -> KeySet:
        return KeySet(self.current, self.previous[:keep])

    def verifying_keys(self) -> tuple[VerifyingKey, ...]:
        return (self.current.verifying, *self.previous)

    def find(self, kid: str) -> VerifyingKey | None:
        return next((k for k in self.verifying_keys() if k.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The document served at ``/.well-known/jwks.json``."""
        return jwks_document(self.verifying_keys())


def jwks_document(keys: Iterable[VerifyingKey]) -> dict[str, list[dict[str, str]]]:
    return {"keys": [k.to_jwk() for k in keys]}


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, VerifyingKey]:
    """Parse a JWKS; entries that are not Ed25519 signature keys are ignored."""
    found: dict[str, VerifyingKey] = {}
    for jwk in document.get("keys", []):
        try:
            key = VerifyingKey.from_jwk(jwk)
        except (ValueError, KeyError, TypeError):
            continue
        found[key.kid] = key
    return found
