"""Accounts through the HTTP API on the real broker and database: registration, the mailed
link, sign-in, Mon compte, refresh, logout, password reset, TOTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chorale_identity.domain.totp import code_at

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Autre-Mot-De-Passe-7"
PASSWORD = "Correct-Horse-42!"


async def test_register_verify_sign_in_and_update_my_account(identity):
    email = "Jeanne.Martin@Ville-Exemple.fr"
    registered = await identity.register(email, telephone="01 23 45 67 89")
    assert registered.status_code == 202
    assert "password" not in registered.text.lower()

    # Not verified yet: the sign-in fails exactly like a wrong password.
    assert (await identity.login(email)).status_code == 401
    token = await identity.link_token(email)
    verified = await identity.post("/v1/users/verify", {"token": token})
    assert verified.status_code == 200, verified.text
    again = await identity.post("/v1/users/verify", {"token": token})
    assert again.status_code == 400 and again.json()["code"] == "VERIFICATION_LINK_INVALID"

    signed_in = await identity.login(email.upper())
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 900
    assert body["refreshToken"].startswith("rt_")
    headers = {"Authorization": f"Bearer {body['accessToken']}"}

    me = (await identity.get("/v1/me", headers=headers)).json()
    assert me["loginEmail"] == email.lower() and me["status"] == "ACTIVE"
    assert me["telephone"] == "01 23 45 67 89"
    assert not {"passwordHash", "totp", "failedAttempts"} & set(me)

    sneaky = await identity.http.patch(
        f"{identity.base}/v1/me", headers=headers, json={"contactEmail": "x@ville-exemple.fr"}
    )
    assert sneaky.status_code == 422
    assert sneaky.json()["code"] == "CONTACT_EMAIL_NEEDS_CONFIRMATION"
    patched = await identity.http.patch(
        f"{identity.base}/v1/me",
        headers=headers,
        json={"prenom": "Jeanne-Marie", "telephone": None},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["contactEmail"] == email.lower()
    assert patched.json()["telephone"] is None
    updated = await identity.mailbox.wait_for(lambda e: e.event_type == "user.profile_updated")
    assert updated[0].payload["prenom"] == "Jeanne-Marie"
    assert updated[0].key == me["id"]

    refreshed = await identity.post("/v1/auth/refresh", {"refreshToken": body["refreshToken"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["refreshToken"] != body["refreshToken"]
    out = await identity.post("/v1/auth/logout", {"refreshToken": refreshed.json()["refreshToken"]})
    assert out.status_code == 204
    after = await identity.post(
        "/v1/auth/refresh", {"refreshToken": refreshed.json()["refreshToken"]}
    )
    assert after.status_code == 401 and after.json()["code"] == "TOKEN_REVOKED"


async def test_weak_password_and_bad_input_are_refused_with_reasons(identity):
    weak = await identity.register("faible@exemple.fr", password="court")
    assert weak.status_code == 422 and weak.json()["code"] == "PASSWORD_TOO_WEAK"
    assert weak.json()["details"]["manquants"]
    bad = await identity.register("pas-une-adresse")
    assert bad.status_code == 422 and bad.json()["code"] == "EMAIL_INVALID"
    unknown_field = await identity.post("/v1/users", {"email": "x@exemple.fr", "admin": True})
    assert unknown_field.status_code == 422


async def test_password_reset_by_link_ends_older_sessions(identity):
    user = await identity.user()
    identity.clock.advance(timedelta(seconds=2))
    asked = await identity.post("/v1/auth/password-reset", {"email": user.email})
    assert asked.status_code == 202
    token = await identity.link_token(user.email, "PASSWORD_RESET")

    weak = await identity.post(
        "/v1/auth/password-reset/confirm", {"token": token, "newPassword": "faible"}
    )
    assert weak.status_code == 422  # the link survives a refused password
    done = await identity.post(
        "/v1/auth/password-reset/confirm", {"token": token, "newPassword": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    reused = await identity.post(
        "/v1/auth/password-reset/confirm", {"token": token, "newPassword": NEW_PASSWORD + "x"}
    )
    assert reused.json()["code"] == "VERIFICATION_LINK_INVALID"

    assert (await identity.login(user.email)).status_code == 401
    assert (await identity.login(user.email, NEW_PASSWORD)).status_code == 200
    old_session = await identity.post("/v1/auth/refresh", {"refreshToken": user.refresh})
    assert old_session.status_code == 401 and old_session.json()["code"] == "TOKEN_REVOKED"


async def test_a_newer_link_supersedes_the_older_one(identity):
    email = "deux-liens@exemple.fr"
    await identity.register(email)
    first = await identity.link_token(email)
    resent = await identity.post("/v1/users/verification/resend", {"email": email})
    assert resent.status_code == 202
    second = await identity.link_token(email, nth=2)
    stale = await identity.post("/v1/users/verify", {"token": first})
    assert stale.json()["code"] == "VERIFICATION_LINK_INVALID"
    assert (await identity.post("/v1/users/verify", {"token": second})).status_code == 200


async def test_totp_second_factor(identity):
    user = await identity.user()
    started = await identity.post(
        "/v1/me/totp", {"currentPassword": PASSWORD}, headers=user.headers
    )
    assert started.status_code == 200
    secret = started.json()["secret"]
    assert started.json()["otpauthUri"].startswith("otpauth://totp/")
    now = identity.clock.now()
    confirmed = await identity.post(
        "/v1/me/totp/confirm", {"code": code_at(secret, now)}, headers=user.headers
    )
    assert confirmed.status_code == 200 and confirmed.json()["totpEnabled"] is True

    missing = await identity.login(user.email)
    assert missing.status_code == 401 and missing.json()["code"] == "TOTP_REQUIRED"
    identity.clock.advance(timedelta(seconds=30))
    code = code_at(secret, identity.clock.now())
    assert (await identity.login(user.email, totp=code)).status_code == 200
    replay = await identity.login(user.email, totp=code)
    assert replay.status_code == 401 and replay.json()["code"] == "TOTP_INVALID"
    # Someone without the password learns nothing about the second factor.
    wrong = await identity.login(user.email, "Pas-Le-Bon-Mot-2")
    assert wrong.json()["code"] == "INVALID_CREDENTIALS"
