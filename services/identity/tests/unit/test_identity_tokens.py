import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.keys import (
    KeySet,
    SigningKey,
    generate_signing_key,
    keys_from_jwks,
    public_key_from_pem,
    thumbprint,
)
from chorale_identity.domain.tokens import (
    SubjectType,
    issue_access_token,
    verify_access_token,
)


@pytest.fixture
def keyset():
    return KeySet(generate_signing_key())


def user_token(keyset, now, **kwargs):
    return issue_access_token(keyset, subject="user-1", typ=SubjectType.USER, now=now, **kwargs)


def segments(token):
    def part(i):
        raw = token.split(".")[i]
        return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))

    return part(0), part(1)


def rejected(token, keys, now, code=ErrorCode.TOKEN_INVALID):
    with pytest.raises(DomainError) as caught:
        verify_access_token(token, keys, now)
    assert caught.value.code is code


def test_user_token_has_exactly_the_documented_claims(keyset, now):
    issued = user_token(keyset, now, roles=["operator"], jti="j-1")
    header, payload = segments(issued.token)
    assert header == {"alg": "EdDSA", "kid": keyset.current.kid, "typ": "JWT"}
    iat = int(now.timestamp())
    assert payload == {
        "iss": "chorale-identity",
        "aud": "chorale",
        "sub": "user-1",
        "typ": "user",
        "roles": ["operator"],
        "iat": iat,
        "exp": iat + 900,
        "jti": "j-1",
    }
    assert issued.expires_in == 900
    claims = verify_access_token(issued.token, keyset, now + timedelta(minutes=14))
    assert claims == issued.claims


def test_technical_token_carries_the_structure(keyset, now):
    issued = issue_access_token(
        keyset, subject="ta-uuid", typ=SubjectType.TECHNICAL, now=now, structure="13000000000006"
    )
    _, payload = segments(issued.token)
    assert payload["typ"] == "technical" and payload["roles"] == []
    assert payload["structure"] == "13000000000006"
    assert verify_access_token(issued.token, keyset, now).structure == "13000000000006"


def test_structure_only_on_technical_tokens(keyset, now):
    with pytest.raises(ValueError):
        user_token(keyset, now, structure="13000000000006")
    with pytest.raises(ValueError):
        issue_access_token(keyset, subject="ta", typ=SubjectType.TECHNICAL, now=now)


def test_ttl_is_configurable(keyset, now):
    issued = user_token(keyset, now, ttl=timedelta(minutes=5))
    assert issued.expires_in == 300
    rejected(issued.token, keyset, now + timedelta(minutes=5), ErrorCode.TOKEN_EXPIRED)


def test_expired_token_is_rejected(keyset, now):
    issued = user_token(keyset, now)
    verify_access_token(issued.token, keyset, now + timedelta(minutes=15) - timedelta(seconds=1))
    rejected(issued.token, keyset, now + timedelta(minutes=15), ErrorCode.TOKEN_EXPIRED)
    claims = verify_access_token(
        issued.token, keyset, now + timedelta(minutes=15), leeway=timedelta(seconds=5)
    )
    assert claims.sub == "user-1"


def test_token_from_the_future_is_rejected(keyset, now):
    issued = user_token(keyset, now + timedelta(minutes=5))
    rejected(issued.token, keyset, now)


def test_wrong_key_with_the_same_kid_is_rejected(keyset, now):
    forger = SigningKey(keyset.current.kid, Ed25519PrivateKey.generate())
    forged = user_token(KeySet(forger), now, roles=["operator"])
    rejected(forged.token, keyset, now)


def test_unknown_kid_is_rejected(keyset, now):
    other = user_token(KeySet(generate_signing_key()), now)
    rejected(other.token, keyset, now)


def test_tampered_payload_is_rejected(keyset, now):
    token = user_token(keyset, now).token
    header, _, signature = token.split(".")
    claims = segments(token)[1] | {"roles": ["operator"]}
    evil = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    rejected(f"{header}.{evil}.{signature}", keyset, now)


def test_other_algorithms_are_rejected(keyset, now):
    payload = segments(user_token(keyset, now).token)[1]
    hs = jwt.encode(
        payload,
        "secret-key-of-at-least-32-bytes!!",
        algorithm="HS256",
        headers={"kid": keyset.current.kid},
    )
    rejected(hs, keyset, now)
    unsigned = jwt.encode(payload, None, algorithm="none", headers={"kid": keyset.current.kid})
    rejected(unsigned, keyset, now)
    rejected("not.a.jwt", keyset, now)
    rejected("", keyset, now)


@pytest.mark.parametrize(
    "change",
    [
        {"extra": "x"},
        {"iss": "someone-else"},
        {"aud": "other"},
        {"typ": "admin"},
        {"roles": "operator"},
        {"structure": "13000000000006"},
        {"iat": "now"},
    ],
)
def test_claims_must_be_exactly_as_documented(keyset, now, change):
    payload = segments(user_token(keyset, now).token)[1] | change
    token = jwt.encode(
        payload, keyset.current.private_key, algorithm="EdDSA", headers={"kid": keyset.current.kid}
    )
    rejected(token, keyset, now)


def test_missing_claim_is_rejected(keyset, now):
    payload = segments(user_token(keyset, now).token)[1]
    del payload["jti"]
    token = jwt.encode(
        payload, keyset.current.private_key, algorithm="EdDSA", headers={"kid": keyset.current.kid}
    )
    rejected(token, keyset, now)


def test_jwks_round_trip(keyset, now):
    document = json.loads(json.dumps(keyset.jwks()))
    [jwk] = document["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == keyset.current.kid == thumbprint(keyset.current.private_key.public_key())
    assert keys_from_jwks(document)[jwk["kid"]].to_jwk() == jwk

    issued = user_token(keyset, now)
    assert verify_access_token(issued.token, document, now) == issued.claims
    # What other services do (runtime's TokenVerifier): PyJWT straight from the JWKS entry.
    decoded = jwt.decode(
        issued.token,
        jwt.PyJWK(jwk),
        algorithms=["EdDSA"],
        audience="chorale",
        issuer="chorale-identity",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert decoded["sub"] == "user-1"


def test_rotation_keeps_old_tokens_valid_until_pruned(keyset, now):
    old_token = user_token(keyset, now).token
    rotated = keyset.rotate()
    assert rotated.current.kid != keyset.current.kid
    assert [k.kid for k in rotated.verifying_keys()] == [rotated.current.kid, keyset.current.kid]
    assert len(rotated.jwks()["keys"]) == 2
    verify_access_token(old_token, rotated, now)
    verify_access_token(old_token, rotated.jwks(), now)
    new_token = user_token(rotated, now).token
    assert segments(new_token)[0]["kid"] == rotated.current.kid
    rejected(old_token, rotated.prune(), now)
    assert len(rotated.rotate().rotate().rotate(keep=2).previous) == 2


def test_pem_round_trip(keyset, now):
    pem = keyset.current.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    reloaded = SigningKey.from_pem(pem)
    assert reloaded.kid == keyset.current.kid
    token = user_token(KeySet(reloaded), now).token
    verify_access_token(token, keyset, now)

    encrypted = keyset.current.to_pem(password=b"phrase")
    assert b"ENCRYPTED" in encrypted
    assert SigningKey.from_pem(encrypted, password=b"phrase").kid == keyset.current.kid

    public = public_key_from_pem(keyset.current.verifying.to_pem())
    assert public.kid == keyset.current.kid
    from_pems = KeySet.from_pems(
        generate_signing_key().to_pem(), [keyset.current.verifying.to_pem()]
    )
    verify_access_token(token, from_pems, now)


def test_private_key_never_in_repr(keyset):
    pem = keyset.current.to_pem().decode()
    body = "".join(pem.splitlines()[1:-1])
    assert body not in repr(keyset)
    assert "private_key" not in repr(keyset.current)


def test_issued_token_repr_hides_the_token(keyset, now):
    issued = user_token(keyset, now)
    assert issued.token not in repr(issued)
