"""Signing keys and TOTP seeds are sealed at rest by default (key file created 0600 at first
start); what an earlier version stored clear is read and sealed at start; identity refuses to
start, with one line, when the stored secrets do not open with the configured key."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
from datetime import timedelta

import pytest
from pydantic import SecretStr

from chorale_identity.adapters.secret_box import new_key_text
from chorale_identity.bootstrap import build_context
from chorale_identity.domain.totp import code_at
from chorale_identity.service_layer.secrets_at_rest import seal_stored_secrets
from chorale_runtime.testing.plugin import service_env
from chorale_runtime.testing.servers import free_port

pytestmark = pytest.mark.integration

PASSWORD = "Correct-Horse-42!"  # the password of the conftest's users


async def enrol_totp(identity, user) -> str:
    enrolment = await identity.post(
        "/v1/me/totp", {"currentPassword": PASSWORD}, headers=user.headers
    )
    secret = enrolment.json()["secret"]
    code = code_at(secret, identity.clock.now())
    confirmed = await identity.post("/v1/me/totp/confirm", {"code": code}, headers=user.headers)
    assert confirmed.status_code == 200, confirmed.text
    return secret


async def stored(identity, collection: str, doc_id: str) -> dict:
    return await identity.ctx.accounts.store.col.database[collection].find_one({"_id": doc_id})


async def signs_in_with_totp(identity, user, secret: str, step: int) -> bool:
    identity.clock.advance(timedelta(seconds=30 * step))
    code = code_at(secret, identity.clock.now())
    return (await identity.login(user.email, totp=code)).status_code == 200


async def test_signing_keys_and_totp_seeds_are_stored_sealed(identity, identity_settings):
    user = await identity.user()
    secret = await enrol_totp(identity, user)

    account = await stored(identity, "users", user.id)
    assert account["totp"]["secret"].startswith("sealed:v1:")
    assert secret not in json.dumps(account, default=str)
    ring = await stored(identity, "signing_keys", "keyring")
    dumped = json.dumps(ring, default=str)
    assert "PRIVATE KEY" not in dumped and all(k["sealedKey"] for k in ring["keys"])

    key_file = identity_settings.secrets_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert await signs_in_with_totp(identity, user, secret, 1)


async def test_clear_secrets_of_an_earlier_version_are_read_then_sealed(
    identity, identity_settings
):
    user = await identity.user()
    secret = await enrol_totp(identity, user)
    db = identity.ctx.accounts.store.col.database
    # What an earlier version stored: the seed and the private key in clear.
    ring = await stored(identity, "signing_keys", "keyring")
    current = (await identity.ctx.keys.keyset()).current
    clear_entry = {**{k: v for k, v in ring["keys"][0].items() if k != "sealedKey"},
                   "pem": current.to_pem().decode(), "encrypted": False}
    await db["signing_keys"].update_one(
        {"_id": "keyring"}, {"$set": {"keys": [clear_entry]}, "$inc": {"version": 1}}
    )
    await db["users"].update_one({"_id": user.id}, {"$set": {"totp.secret": secret}})
    assert await signs_in_with_totp(identity, user, secret, 1)  # clear records still read

    await seal_stored_secrets(build_context(db, identity_settings))  # what a start does
    assert (await stored(identity, "users", user.id))["totp"]["secret"].startswith("sealed:v1:")
    resealed = await stored(identity, "signing_keys", "keyring")
    assert "PRIVATE KEY" not in json.dumps(resealed, default=str)
    assert [k["kid"] for k in resealed["keys"]] == [current.kid]
    assert await signs_in_with_totp(identity, user, secret, 2)


async def test_identity_does_not_start_when_its_secrets_do_not_open(
    identity, infra, namespace, identity_settings
):
    await identity.user()  # a sealed key ring exists
    env = service_env(infra, namespace, "identity", CHORALE_SECRETS_KEY=new_key_text(),
                      CHORALE_HTTP_PORT=str(free_port()))
    assert env["CHORALE_MONGODB_DATABASE"] == identity_settings.database_name
    started = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "chorale_identity"], env=env,
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert started.returncode == 2
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1, started.stderr
    assert lines[0].startswith("chorale-identity: cannot read the stored secrets:")
    assert "sealed with key" in lines[0] and "CHORALE_SECRETS_KEY" in lines[0]


async def test_passphrase_encrypted_keys_of_an_earlier_version_are_resealed(
    identity, identity_settings
):
    db = identity.ctx.accounts.store.col.database
    current = (await identity.ctx.keys.keyset()).current  # the ring exists from here
    ring = await stored(identity, "signing_keys", "keyring")
    legacy = {**{k: v for k, v in ring["keys"][0].items() if k != "sealedKey"},
              "pem": current.to_pem(b"ancienne-phrase").decode(), "encrypted": True}
    await db["signing_keys"].update_one(
        {"_id": "keyring"}, {"$set": {"keys": [legacy]}, "$inc": {"version": 1}}
    )
    with_passphrase = identity_settings.model_copy(
        update={"signing_key_passphrase": SecretStr("ancienne-phrase")}
    )
    await seal_stored_secrets(build_context(db, with_passphrase))
    resealed = await stored(identity, "signing_keys", "keyring")
    assert [k["kid"] for k in resealed["keys"]] == [current.kid]
    assert resealed["keys"][0]["sealedKey"].startswith("sealed:v1:")
    assert "pem" not in resealed["keys"][0]
