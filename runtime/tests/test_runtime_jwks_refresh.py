"""The verifier trusts a key only while identity publishes it (bounded JWKS cache)."""

import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from chorale_runtime.auth import TokenVerifier, cache_max_age
from chorale_runtime.errors import ApiError


class Key:
    def __init__(self, kid: str):
        self.kid = kid
        self.private = Ed25519PrivateKey.generate()

    def jwk(self) -> dict:
        jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        return jwk

    def token(self) -> str:
        now = int(time.time())
        claims = {"iss": "chorale-identity", "aud": "chorale", "sub": "u-1", "typ": "user",
                  "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


class FakeIdentity:
    """What the JWKS endpoint answers, and how often it was asked."""

    def __init__(self, *keys: Key, max_age: float | None = 60):
        self.keys = list(keys)
        self.max_age = max_age
        self.fetches = 0
        self.down = False

    async def fetch(self, _url: str):
        self.fetches += 1
        if self.down:
            raise httpx.ConnectError("identity is down")
        return {"keys": [k.jwk() for k in self.keys]}, self.max_age


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(identity: FakeIdentity, clock: Clock, max_age: float = 60) -> TokenVerifier:
    return TokenVerifier("http://identity/.well-known/jwks.json", issuer="chorale-identity",
                         audience="chorale", max_age=max_age, min_refresh=2,
                         fetch=identity.fetch, clock=clock)


async def test_a_key_identity_stops_publishing_is_refused_once_the_set_is_older_than_its_max_age():
    old, new = Key("old"), Key("new")
    identity, clock = FakeIdentity(old, new, max_age=30), Clock()
    check = verifier(identity, clock)
    assert (await check.verify(old.token())).subject == "u-1"
    identity.keys = [new]  # revoked
    clock.now += 29
    assert (await check.verify(old.token())).subject == "u-1"  # still within its max-age
    clock.now += 1
    with pytest.raises(ApiError) as refused:
        await check.verify(old.token())
    assert refused.value.code == "TOKEN_INVALID"
    assert (await check.verify(new.token())).subject == "u-1"


async def test_the_setting_caps_a_longer_max_age_from_identity():
    old = Key("old")
    identity, clock = FakeIdentity(old, max_age=86400), Clock()
    check = verifier(identity, clock, max_age=60)
    await check.verify(old.token())
    identity.keys = []
    clock.now += 60
    with pytest.raises(ApiError):
        await check.verify(old.token())
    assert identity.fetches == 2


async def test_without_cache_control_the_setting_applies():
    old = Key("old")
    identity, clock = FakeIdentity(old, max_age=None), Clock()
    check = verifier(identity, clock, max_age=5)
    await check.verify(old.token())
    clock.now += 4
    await check.verify(old.token())
    assert identity.fetches == 1
    clock.now += 1
    await check.verify(old.token())
    assert identity.fetches == 2


async def test_an_unknown_kid_refreshes_at_once_but_at_most_once_per_min_refresh():
    first, rotated = Key("first"), Key("rotated")
    identity, clock = FakeIdentity(first), Clock()
    check = verifier(identity, clock)
    await check.verify(first.token())
    identity.keys = [first, rotated]
    clock.now += 3
    assert (await check.verify(rotated.token())).subject == "u-1"
    assert identity.fetches == 2
    for _ in range(5):  # made-up kids do not make a fetch each
        with pytest.raises(ApiError):
            await check.verify(Key(f"bogus-{uuid.uuid4()}").token())
    assert identity.fetches == 2
    clock.now += 2
    with pytest.raises(ApiError):
        await check.verify(Key("bogus").token())
    assert identity.fetches == 3


async def test_a_stale_set_is_not_used_when_identity_cannot_be_reached():
    key = Key("k")
    identity, clock = FakeIdentity(key, max_age=10), Clock()
    check = verifier(identity, clock)
    await check.verify(key.token())
    identity.down = True
    clock.now += 10
    with pytest.raises(ApiError) as unavailable:
        await check.verify(key.token())
    assert (unavailable.value.code, unavailable.value.status) == ("AUTH_UNAVAILABLE", 503)
    identity.down = False
    clock.now += 2
    assert (await check.verify(key.token())).subject == "u-1"


@pytest.mark.parametrize(("header", "seconds"), [
    ("public, max-age=60", 60.0), ("max-age=\"5\"", 5.0), ("no-store", 0.0),
    ("private, no-cache, max-age=30", 0.0), ("public", None), (None, None),
    ("s-maxage=10", None),
])
def test_cache_control_max_age(header, seconds):
    assert cache_max_age(header) == seconds
