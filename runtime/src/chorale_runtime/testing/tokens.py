"""Access tokens for tests of services other than identity: an Ed25519 key, its JWKS, and
tokens with the claim set of services/identity/docs/tokens.md."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from chorale_runtime.auth import TokenVerifier


class TokenFactory:
    def __init__(self, kid: str = "test-key"):
        self.kid = kid
        self._key = Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": [jwk]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(None, issuer="chorale-identity", audience="chorale",
                             jwks=self.jwks())

    def token(self, subject: str, *, roles: tuple[str, ...] = (), typ: str = "user",
              structure: str | None = None, ttl: int = 900) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "chorale-identity", "aud": "chorale", "sub": subject, "typ": typ,
            "roles": list(roles), "iat": now, "exp": now + ttl, "jti": str(uuid.uuid4()),
        }
        if structure is not None:
            claims["structure"] = structure
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, subject: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, **kwargs)}"}

    def operator(self, subject: str = "operator-1") -> dict[str, str]:
        return self.headers(subject, roles=("operator",))

    def technical(self, account_id: str, structure: str) -> dict[str, str]:
        return self.headers(account_id, typ="technical", structure=structure)
