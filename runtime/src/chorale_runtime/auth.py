"""Verification of the access tokens the identity service issues (EdDSA JWTs, see
services/identity/docs/tokens.md), against its JWKS, with the keys cached in-process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from fastapi import Request

from chorale_runtime.errors import ApiError, unauthenticated

OPERATOR_ROLE = "operator"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (`typ` user) or a technical account of a structure."""

    subject: str
    typ: str
    roles: frozenset[str] = field(default_factory=frozenset)
    structure: str | None = None
    token_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return OPERATOR_ROLE in self.roles

    @property
    def is_technical(self) -> bool:
        return self.typ == "technical"


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    return Principal(
        subject=str(claims["sub"]),
        typ=str(claims.get("typ", "user")),
        roles=frozenset(claims.get("roles") or ()),
        structure=claims.get("structure"),
        token_id=claims.get("jti"),
    )


class TokenVerifier:
    """Verifies signature, issuer, audience and expiry. Unknown `kid`s trigger one JWKS refresh
    (key rotation) at most every `min_refresh` seconds."""

    def __init__(
        self,
        jwks_url: str | None,
        *,
        issuer: str,
        audience: str,
        jwks: dict[str, Any] | None = None,
        min_refresh: float = 10.0,
        leeway: float = 5.0,
    ):
        self._url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._min_refresh = min_refresh
        self._leeway = leeway
        self._lock = asyncio.Lock()
        if jwks is not None:
            self._load(jwks)

    def _load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for data in jwks.get("keys", []):
            key = jwt.PyJWK(data)
            keys[data.get("kid", "")] = key
        self._keys = keys

    async def _refresh(self) -> None:
        if self._url is None:
            return
        async with self._lock:
            if time.monotonic() - self._fetched_at < self._min_refresh and self._keys:
                return
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                    self._load(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                raise ApiError(
                    "AUTH_UNAVAILABLE",
                    "Le service d'authentification est indisponible, réessayez.",
                    503,
                ) from exc
            finally:
                self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise ApiError("TOKEN_INVALID", "Jeton d'accès invalide.", 401) from None
        kid = header.get("kid", "")
        if kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise ApiError("TOKEN_INVALID", "Jeton d'accès invalide.", 401)
        return self.verify_with(token, key)

    def verify_with(self, token: str, key: jwt.PyJWK) -> Principal:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError("TOKEN_EXPIRED", "Jeton d'accès expiré.", 401) from None
        except jwt.PyJWTError:
            raise ApiError("TOKEN_INVALID", "Jeton d'accès invalide.", 401) from None
        return principal_from_claims(claims)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthenticated()
    return token.strip()
