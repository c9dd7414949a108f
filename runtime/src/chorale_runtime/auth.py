"""Verification of the access tokens the identity service issues (EdDSA JWTs, see
services/identity/docs/tokens.md), against its JWKS, with the keys cached in-process for a
bounded time (``CHORALE_JWKS_MAX_AGE_SECONDS``)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from fastapi import Request

from chorale_runtime.errors import ApiError, unauthenticated
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

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


JwksFetch = Callable[[str], Awaitable[tuple[dict[str, Any], float | None]]]

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def cache_max_age(cache_control: str | None) -> float | None:
    """Seconds a response may be reused per its ``Cache-Control`` (``no-store``/``no-cache``:
    0), or None when it does not say."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0.0
    found = _MAX_AGE.search(cache_control)
    return float(found.group(1)) if found else None


async def fetch_jwks(url: str) -> tuple[dict[str, Any], float | None]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.json(), cache_max_age(response.headers.get("cache-control"))


class TokenVerifier:
    """Verifies signature, issuer, audience and expiry against identity's JWKS.

    A key is trusted only while identity publishes it: the set is fetched again once it is
    older than its ``Cache-Control: max-age``, capped by ``max_age`` (so a revoked key stops
    verifying within ``max_age`` seconds whatever identity's header says), and a key missing
    from the new set is refused. An unknown ``kid`` (a new key) triggers a refresh too, at most
    once every ``min_refresh`` seconds so that made-up ``kid``s cannot flood identity. When the
    set is stale and identity cannot be reached, tokens are refused (503), never checked
    against keys that may have been revoked meanwhile.
    """

    def __init__(
        self,
        jwks_url: str | None,
        *,
        issuer: str,
        audience: str,
        jwks: dict[str, Any] | None = None,
        max_age: float = 60.0,
        min_refresh: float = 2.0,
        leeway: float = 5.0,
        fetch: JwksFetch = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._keys: dict[str, jwt.PyJWK] = {}
        self._max_age = max_age
        self._min_refresh = min_refresh
        self._leeway = leeway
        self._fetch = fetch
        self._clock = clock
        self._attempted_at: float | None = None  # last fetch attempt, successful or not
        self._failed = False
        self._fresh_until = float("-inf")
        self._lock = asyncio.Lock()
        if jwks is not None:
            self._load(jwks)
        if jwks_url is None:
            self._fresh_until = float("inf")  # a fixed set (tests): nothing to refresh

    @classmethod
    def from_settings(cls, settings: Any) -> TokenVerifier:
        return cls(
            settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            max_age=settings.jwks_max_age_seconds,
        )

    def _load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for data in jwks.get("keys", []):
            key = jwt.PyJWK(data)
            keys[data.get("kid", "")] = key
        self._keys = keys

    def _stale(self) -> bool:
        return self._clock() >= self._fresh_until

    async def _refresh(self, *, unknown_kid: bool) -> None:
        if self._url is None:
            return
        async with self._lock:
            now = self._clock()
            last = self._attempted_at
            recent = last is not None and now - last < self._min_refresh
            stale = now >= self._fresh_until
            if stale and recent:
                # At most one fetch per ``min_refresh``: what the last one gave is what we have.
                if self._failed:
                    raise _unavailable()
                return
            if not stale and (not unknown_kid or recent):
                return  # refreshed meanwhile by another request, or rate-limited
            self._attempted_at = now
            try:
                document, header_age = await self._fetch(self._url)
                self._load(document)
            except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
                self._failed = True
                log.warning("jwks_refresh_failed", url=self._url, error=type(exc).__name__)
                if stale:
                    raise _unavailable() from exc
                return  # the keys we hold are still within their age
            self._failed = False
            age = self._max_age if header_age is None else min(header_age, self._max_age)
            self._fresh_until = now + age
            log.debug("jwks_refreshed", kids=sorted(self._keys), fresh_for=age)

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise ApiError("TOKEN_INVALID", "Jeton d'accès invalide.", 401) from None
        kid = header.get("kid", "")
        if self._stale() or kid not in self._keys:
            await self._refresh(unknown_kid=kid not in self._keys)
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


def _unavailable() -> ApiError:
    return ApiError(
        "AUTH_UNAVAILABLE", "Le service d'authentification est indisponible, réessayez.", 503
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthenticated()
    return token.strip()
