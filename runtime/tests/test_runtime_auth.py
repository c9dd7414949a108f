import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from chorale_runtime.auth import TokenVerifier
from chorale_runtime.errors import ApiError


def _keypair(kid: str):
    private = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    return private, jwk


def _token(private, kid, **overrides):
    now = int(time.time())
    claims = {"iss": "chorale-identity", "aud": "chorale", "sub": "u-1", "typ": "user",
              "roles": ["operator"], "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    claims.update(overrides)
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})


async def test_a_valid_token_gives_the_principal():
    private, jwk = _keypair("k1")
    verifier = TokenVerifier(None, issuer="chorale-identity", audience="chorale",
                             jwks={"keys": [jwk]})
    principal = await verifier.verify(_token(private, "k1"))
    assert principal.subject == "u-1"
    assert principal.is_operator
    assert not principal.is_technical


async def test_technical_tokens_carry_their_structure():
    private, jwk = _keypair("k1")
    verifier = TokenVerifier(None, issuer="chorale-identity", audience="chorale",
                             jwks={"keys": [jwk]})
    p = await verifier.verify(_token(private, "k1", typ="technical", roles=[],
                                     structure="35600000000048"))
    assert p.is_technical and p.structure == "35600000000048"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": int(time.time()) - 60}, "TOKEN_EXPIRED"),
        ({"aud": "someone-else"}, "TOKEN_INVALID"),
        ({"iss": "evil"}, "TOKEN_INVALID"),
    ],
)
async def test_bad_claims_are_refused(overrides, code):
    private, jwk = _keypair("k1")
    verifier = TokenVerifier(None, issuer="chorale-identity", audience="chorale",
                             jwks={"keys": [jwk]})
    with pytest.raises(ApiError) as info:
        await verifier.verify(_token(private, "k1", **overrides))
    assert info.value.code == code
    assert info.value.status == 401


async def test_a_token_signed_by_another_key_is_refused():
    _, jwk = _keypair("k1")
    other, _ = _keypair("k1")
    verifier = TokenVerifier(None, issuer="chorale-identity", audience="chorale",
                             jwks={"keys": [jwk]})
    with pytest.raises(ApiError) as info:
        await verifier.verify(_token(other, "k1"))
    assert info.value.code == "TOKEN_INVALID"


async def test_garbage_and_unknown_kids_are_refused():
    private, jwk = _keypair("k1")
    verifier = TokenVerifier(None, issuer="chorale-identity", audience="chorale",
                             jwks={"keys": [jwk]})
    for token in ("not-a-jwt", _token(private, "k2")):
        with pytest.raises(ApiError):
            await verifier.verify(token)
