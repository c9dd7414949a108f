"""The operator bootstrap command, and signing keys shared through the database: rotation
published before use, old tokens still verified, verifiers of other services following."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import jwt
import pytest

from chorale_identity.bootstrap import build_context
from chorale_identity.settings import IdentitySettings
from chorale_runtime.auth import TokenVerifier
from chorale_runtime.testing.plugin import settings_for

from .conftest import FAST, running_identity

pytestmark = pytest.mark.integration

OPERATOR_PASSWORD = "Operateur-Tres-Sur-2025"


def admin(env: dict[str, str], *args: str, password: str = OPERATOR_PASSWORD):
    return subprocess.run(
        [sys.executable, "-m", "chorale_identity.admin", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


async def test_create_operator_is_idempotent_and_never_echoes_the_password(
    identity, identity_settings
):
    env = {
        "MONGODB_URI": os.environ.get("MONGODB_URI", "")
        or identity_settings.mongodb_uri.get_secret_value(),
        "CHORALE_MONGODB_DATABASE": identity_settings.database_name,
        "CHORALE_ARGON2_MEMORY_KIB": "8",
        "CHORALE_ARGON2_TIME_COST": "1",
        "CHORALE_ARGON2_INSECURE_FOR_TESTS": "true",
    }
    args = (
        "create-operator",
        "--email",
        "Ops@Chorale.example.fr",
        "--first-name",
        "Alice",
        "--last-name",
        "Opératrice",
        "--password-stdin",
    )
    first = await asyncio.to_thread(admin, env, *args)
    assert first.returncode == 0, first.stderr
    assert "Opérateur créé : ops@chorale.example.fr" in first.stdout
    second = await asyncio.to_thread(admin, env, *args, password="Autre-Mot-De-Passe-99")
    assert second.returncode == 0 and "déjà existant" in second.stdout
    weak = await asyncio.to_thread(
        admin,
        env,
        "create-operator",
        "--email",
        "x@exemple.fr",
        "--first-name",
        "X",
        "--last-name",
        "Y",
        "--password-stdin",
        password="faible",
    )
    assert weak.returncode == 2 and "PASSWORD_TOO_WEAK" in weak.stderr
    for run in (first, second, weak):
        assert OPERATOR_PASSWORD not in run.stdout + run.stderr
        assert "faible" not in run.stdout + run.stderr

    signed_in = await identity.login("ops@chorale.example.fr", OPERATOR_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text  # the first password stayed
    claims = jwt.decode(signed_in.json()["accessToken"], options={"verify_signature": False})
    assert claims["roles"] == ["operator"]
    registered = await identity.mailbox.wait_for(
        lambda e: e.event_type == "user.registered" and e.payload["roles"] == ["operator"]
    )
    assert registered[0].payload["loginEmail"] == "ops@chorale.example.fr"

    user = await identity.user()
    plain = await asyncio.to_thread(
        admin,
        env,
        "create-operator",
        "--email",
        user.email,
        "--first-name",
        "J",
        "--last-name",
        "M",
        "--password-stdin",
    )
    assert plain.returncode == 1 and "--promote" in plain.stdout


async def test_signing_key_rotation_shared_by_replicas(infra, namespace, tmp_path):
    settings = settings_for(
        IdentitySettings, infra, namespace, **FAST, signing_key_publish_seconds=2,
        secrets_key_file=tmp_path / "secrets.key",
    )
    async with running_identity(infra, namespace, settings) as identity:
        await rotation_scenario(identity, settings)


async def rotation_scenario(identity, identity_settings):
    ctx = identity.ctx
    replica = build_context(
        ctx.accounts.store.col.database, identity_settings, clock=identity.clock, hasher=ctx.hasher
    )
    before = await ctx.keys.keyset()
    assert (await replica.keys.keyset()).current.kid == before.current.kid

    user = await identity.user()
    verifier = TokenVerifier(
        f"{identity.base}/.well-known/jwks.json",
        issuer="chorale-identity",
        audience="chorale",
        min_refresh=0,
    )
    assert (await verifier.verify(user.access)).subject == user.id

    new_kid = await replica.keys.rotate()
    await asyncio.sleep(identity_settings.signing_key_refresh_seconds + 0.2)
    published = (await identity.get("/.well-known/jwks.json")).json()
    assert {k["kid"] for k in published["keys"]} == {before.current.kid, new_kid}
    still_old = (await identity.login(user.email)).json()["accessToken"]
    assert jwt.get_unverified_header(still_old)["kid"] == before.current.kid  # not yet

    await asyncio.sleep(identity_settings.signing_key_publish_seconds)  # real time
    fresh = (await identity.login(user.email)).json()["accessToken"]
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    for token in (user.access, fresh):  # other services' verifiers run on real time too
        assert (
            await identity.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
        assert (await verifier.verify(token)).subject == user.id

    identity.clock.advance(timedelta(seconds=identity_settings.signing_key_retention_seconds))
    await asyncio.sleep(identity_settings.signing_key_refresh_seconds + 0.2)
    kept = (await identity.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in kept["keys"]] == [new_kid]  # the old key retired
    stored = await ctx.accounts.store.col.database["signing_keys"].find_one({"_id": "keyring"})
    assert all(k["sealedKey"].startswith("sealed:v1:") for k in stored["keys"])
