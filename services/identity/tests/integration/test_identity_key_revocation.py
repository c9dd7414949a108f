"""Revoking a signing key (the operator's command): identity stops publishing it and a new key
signs at once; tokens it signed are refused by identity and by other services' verifiers as
soon as their JWKS is refreshed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import jwt
import pytest

from chorale_runtime.auth import TokenVerifier
from chorale_runtime.errors import ApiError
from chorale_runtime.testing.kafka_probe import eventually

pytestmark = pytest.mark.integration


def admin_env(settings) -> dict[str, str]:
    return {
        "MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "CHORALE_MONGODB_DATABASE": settings.database_name,
        **{f"CHORALE_{k.upper()}": str(v) for k, v in admin_settings(settings).items()},
    }


def admin_settings(settings) -> dict[str, object]:
    """What the command needs to open the same key ring as the running service."""
    found = {}
    for name in ("secrets_key_file",):
        if name in type(settings).model_fields and getattr(settings, name) is not None:
            found[name] = getattr(settings, name)
    return found


def admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chorale_identity.admin", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )


async def test_a_revoked_key_is_refused_everywhere_and_a_new_key_signs(
    identity, identity_settings
):
    user = await identity.user()
    kid = jwt.get_unverified_header(user.access)["kid"]
    elsewhere = TokenVerifier(  # another service's verifier, with a short JWKS max age
        f"{identity.base}/.well-known/jwks.json", issuer="chorale-identity",
        audience="chorale", max_age=0.5, min_refresh=0.2,
    )
    assert (await elsewhere.verify(user.access)).subject == user.id

    env = admin_env(identity_settings)
    unknown = await asyncio.to_thread(admin, env, "revoke-signing-key", "--kid", "nope")
    assert unknown.returncode == 2 and "SIGNING_KEY_UNKNOWN" in unknown.stderr
    revoked = await asyncio.to_thread(admin, env, "revoke-signing-key", "--kid", kid)
    assert revoked.returncode == 0, revoked.stderr
    assert f"Clé {kid} révoquée" in revoked.stdout

    async def refused_by_identity() -> bool:
        me = await identity.get("/v1/me", headers=user.headers)
        return me.status_code == 401 and me.json()["code"] == "TOKEN_INVALID"

    async def refused_elsewhere() -> bool:
        try:
            await elsewhere.verify(user.access)
        except ApiError as error:
            return error.code == "TOKEN_INVALID"
        return False

    await eventually(refused_by_identity, timeout=30)
    await eventually(refused_elsewhere, timeout=30)
    published = (await identity.get("/.well-known/jwks.json")).json()
    assert kid not in {k["kid"] for k in published["keys"]}

    fresh = (await identity.login(user.email)).json()["accessToken"]
    new_kid = jwt.get_unverified_header(fresh)["kid"]
    assert new_kid != kid and new_kid in revoked.stdout
    assert (await elsewhere.verify(fresh)).subject == user.id
    me = await identity.get("/v1/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200
