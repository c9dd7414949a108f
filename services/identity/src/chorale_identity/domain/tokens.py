"""Access tokens: short-lived JWTs signed with Ed25519 (``alg`` EdDSA, header ``kid``).

The claim set is a contract with every other service (see ``services/identity/docs/tokens.md``)
and is exactly: ``iss`` = "chorale-identity", ``aud`` = "chorale", ``sub`` (user id or technical
account client id), ``typ`` ("user" | "technical"), ``roles`` (list of str), ``structure``
(SIRET/identifier; technical tokens only, absent otherwise), ``iat``, ``exp``, ``jti``.
A token with any other claim, or missing one, is refused.

``verify_access_token`` takes ``now`` instead of reading the clock, so PyJWT's own time checks
are switched off and done here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from .clock import require_utc
from .errors import DomainError, ErrorCode
from .keys import ALGORITHM, KeySet, VerifyingKey, keys_from_jwks

ISSUER = "chorale-identity"
AUDIENCE = "chorale"
ACCESS_TOKEN_TTL = timedelta(minutes=15)

USER_CLAIMS = frozenset({"iss", "aud", "sub", "typ", "roles", "iat", "exp", "jti"})
TECHNICAL_CLAIMS = USER_CLAIMS | {"structure"}


class SubjectType(StrEnum):
    USER = "user"
    TECHNICAL = "technical"


class AccessTokenClaims(BaseModel):
    """Claim names are the JWT's own (no camelCase aliases here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iss: StrictStr
    aud: StrictStr
    sub: StrictStr
    typ: SubjectType
    roles: tuple[StrictStr, ...]
    structure: StrictStr | None = None
    iat: StrictInt
    exp: StrictInt
    jti: StrictStr

    def payload(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["roles"] = list(self.roles)
        return data


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    claims: AccessTokenClaims

    @property
    def expires_in(self) -> int:
        return self.claims.exp - self.claims.iat

    def __repr__(self) -> str:
        return f"IssuedAccessToken(token='***', claims={self.claims!r})"


def issue_access_token(
    keyset: KeySet,
    *,
    subject: str,
    typ: SubjectType,
    now: datetime,
    roles: Iterable[str] = (),
    structure: str | None = None,
    ttl: timedelta = ACCESS_TOKEN_TTL,
    jti: str | None = None,
) -> IssuedAccessToken:
    typ = SubjectType(typ)
    if (typ is SubjectType.TECHNICAL) != (structure is not None):
        raise ValueError("a technical token carries a structure; a user token does not")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    issued_at = int(require_utc(now).timestamp())
    claims = AccessTokenClaims(
        iss=ISSUER,
        aud=AUDIENCE,
        sub=subject,
        typ=typ,
        roles=tuple(roles),
        structure=structure,
        iat=issued_at,
        exp=issued_at + int(ttl.total_seconds()),
        jti=jti or str(uuid.uuid4()),
    )
    token = jwt.encode(
        claims.payload(),
        keyset.current.private_key,
        algorithm=ALGORITHM,
        headers={"kid": keyset.current.kid},
    )
    return IssuedAccessToken(token=token, claims=claims)


KeySource = KeySet | Mapping[str, Any] | Iterable[VerifyingKey]


def _keys_by_kid(keys: KeySource) -> dict[str, VerifyingKey]:
    if isinstance(keys, KeySet):
        return {k.kid: k for k in keys.verifying_keys()}
    if isinstance(keys, Mapping):
        return keys_from_jwks(keys)
    return {k.kid: k for k in keys}


def _invalid(reason: str) -> DomainError:
    return DomainError(ErrorCode.TOKEN_INVALID, details={"raison": reason})


def verify_access_token(
    token: str, keys: KeySource, now: datetime, *, leeway: timedelta = timedelta(0)
) -> AccessTokenClaims:
    """Return the claims of a valid token; raise TOKEN_INVALID or TOKEN_EXPIRED.

    ``keys``: a ``KeySet``, a JWKS document (dict), or verifying keys.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise _invalid("malformed") from error
    if header.get("alg") != ALGORITHM:
        raise _invalid("algorithm")
    key = _keys_by_kid(keys).get(str(header.get("kid")))
    if key is None:
        raise _invalid("unknown_kid")
    try:
        payload = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidTokenError as error:
        raise _invalid("signature") from error

    expected = TECHNICAL_CLAIMS if payload.get("typ") == SubjectType.TECHNICAL else USER_CLAIMS
    if set(payload) != expected:
        raise _invalid("claims")
    try:
        claims = AccessTokenClaims.model_validate(payload)
    except ValidationError as error:
        raise _invalid("claims") from error
    if claims.iss != ISSUER or claims.aud != AUDIENCE:
        raise _invalid("issuer_or_audience")

    now_ts = require_utc(now).timestamp()
    slack = leeway.total_seconds()
    if claims.iat > now_ts + slack or claims.exp <= claims.iat:
        raise _invalid("issued_at")
    if now_ts >= claims.exp + slack:
        raise DomainError(ErrorCode.TOKEN_EXPIRED)
    return claims
