"""How identity checks the access tokens presented to its own API: with its own key ring
and clock (no HTTP round trip to itself), through the domain's strict verification.

A ``fallback`` verifier (tests pass ``TokenFactory().verifier()``, as for every service) is
asked only about tokens signed by a key identity does not hold.
"""

from __future__ import annotations

import jwt

from chorale_identity.domain.clock import Clock
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.tokens import AUDIENCE, ISSUER, verify_access_token
from chorale_identity.service_layer.signing_keys import KeyRing
from chorale_runtime.auth import Principal, TokenVerifier, principal_from_claims

UNKNOWN_KID_RELOAD_SECONDS = 1.0


class OwnKeysVerifier(TokenVerifier):
    def __init__(self, keys: KeyRing, clock: Clock, fallback: TokenVerifier | None = None):
        super().__init__(None, issuer=ISSUER, audience=AUDIENCE)
        self._ring = keys
        self._own_clock = clock  # the base class has its own `_clock` (a monotonic time)
        self._fallback = fallback

    async def verify(self, token: str) -> Principal:
        try:
            kid = str(jwt.get_unverified_header(token).get("kid"))
        except jwt.PyJWTError:
            raise DomainError(ErrorCode.TOKEN_INVALID) from None
        keyset = await self._ring.keyset()
        if keyset.find(kid) is None and await self._ring.reload_if_older_than(
            UNKNOWN_KID_RELOAD_SECONDS
        ):
            keyset = await self._ring.keyset()  # a key another replica just added
        if keyset.find(kid) is None and self._fallback is not None:
            return await self._fallback.verify(token)
        claims = verify_access_token(token, keyset, self._own_clock.now())
        return principal_from_claims(claims.payload())
