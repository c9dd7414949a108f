"""Passwords, tokens, link tokens, client secrets and TOTP codes never reach the logs, and
no answer carries a password or its hash."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from chorale_identity.domain.totp import code_at
from chorale_runtime.logging import configure

from .conftest import running_identity

pytestmark = pytest.mark.integration

PASSWORD = "Correct-Horse-42!"
NEW_PASSWORD = "Nouveau-Secret-Tres-Long-9"


async def test_secrets_never_logged_or_returned(infra, namespace, identity_settings):
    logs = io.StringIO()
    configure("identity", "DEBUG", "json", stream=logs)
    responses: list[str] = []

    async def keep(response):
        await response.aread()
        responses.append(response.text)

    async with running_identity(
        infra, namespace, identity_settings, configure_logging=False
    ) as identity:
        identity.http.event_hooks["response"].append(keep)
        secrets: list[str] = [PASSWORD, NEW_PASSWORD]

        user = await identity.user("secret.keeper@exemple.fr", PASSWORD)
        secrets += [user.access, user.refresh, user.verification_token]
        assert (await identity.login(user.email, "Mauvais-Mot-De-Passe-1")).status_code == 401
        refreshed = (await identity.post("/v1/auth/refresh", {"refreshToken": user.refresh})).json()
        secrets += [refreshed["accessToken"], refreshed["refreshToken"]]

        identity.clock.advance(timedelta(seconds=2))
        await identity.post("/v1/auth/password-reset", {"email": user.email})
        reset = await identity.link_token(user.email, "PASSWORD_RESET")
        secrets.append(reset)
        done = await identity.post(
            "/v1/auth/password-reset/confirm", {"token": reset, "newPassword": NEW_PASSWORD}
        )
        assert done.status_code == 200
        session = (await identity.login(user.email, NEW_PASSWORD)).json()
        secrets += [session["accessToken"], session["refreshToken"]]
        headers = {"Authorization": f"Bearer {session['accessToken']}"}

        started = (
            await identity.post("/v1/me/totp", {"currentPassword": NEW_PASSWORD}, headers=headers)
        ).json()
        code = code_at(started["secret"], identity.clock.now())
        secrets += [started["secret"], code]
        await identity.post("/v1/me/totp/confirm", {"code": code}, headers=headers)

        siret = await identity.structure(type_structure="PRIVEE", created_by=user.id)
        created = (
            await identity.post(
                f"/v1/structures/{siret}/technical-accounts", {"label": "EDI"}, headers=headers
            )
        ).json()
        token = (
            await identity.post(
                "/v1/auth/token",
                {"clientId": created["clientId"], "clientSecret": created["clientSecret"]},
            )
        ).json()
        secrets += [created["clientSecret"], token["accessToken"]]
        await identity.mailbox.wait_for(lambda e: e.event_type == "technical_account.created")

        stored = await identity.ctx.accounts.get(user.id)
        hashes = [stored.value.password_hash]

    output = logs.getvalue()
    assert '"sign_in_succeeded"' in output and '"technical_account_created"' in output
    assert '"http_request"' in output
    for line in output.splitlines():
        json.loads(line)  # every line is one JSON record
    leaked = [s for s in secrets + hashes if s in output]
    assert not leaked, f"{len(leaked)} secret(s) in the logs"

    everything = "\n".join(responses)
    assert PASSWORD not in everything and NEW_PASSWORD not in everything
    assert not any(h in everything for h in hashes)
    assert "argon2" not in everything and "passwordHash" not in everything
