"""Issue 14 through the HTTP API: links that prove or recover an account go to the login only,
a contact e-mail counts once its own link was followed, and sensitive changes ask again for
the password (and the TOTP code), failures counting toward the sign-in lockout."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from chorale_identity.domain.totp import code_at

pytestmark = pytest.mark.integration

PASSWORD = "Correct-Horse-42!"
WRONG = "Pas-Le-Bon-Mot-42!"
NEW_PASSWORD = "Autre-Mot-De-Passe-7"


def links_to(identity, address: str) -> list:
    return [
        e
        for e in identity.mailbox.of_type("user.verification_requested")
        if e.payload["contactEmail"] == address
    ]


async def test_a_contact_email_typed_at_registration_cannot_take_the_login_over(identity):
    """Regression: the verification link used to go to the contact address, so whoever typed
    it activated (and could reset) someone else's login."""
    login, evil = "maire@ville-exemple.fr", "x@evil.example"
    assert (await identity.register(login, contactEmail=evil)).status_code == 202
    token = await identity.link_token(login)  # to the login, not to the contact address
    assert not links_to(identity, evil)

    asked = await identity.post("/v1/auth/password-reset", {"email": login})
    assert asked.status_code == 202
    assert (await identity.post("/v1/users/verify", {"token": token})).status_code == 200
    # Only now, once the login is proven, does the contact address get its own link.
    contact_token = await identity.link_token(evil, "CONTACT_EMAIL_VERIFICATION")
    assert all(
        e.payload["purpose"] == "CONTACT_EMAIL_VERIFICATION" for e in links_to(identity, evil)
    )

    signed_in = (await identity.login(login)).json()
    headers = {"Authorization": f"Bearer {signed_in['accessToken']}"}
    me = (await identity.get("/v1/me", headers=headers)).json()
    assert me["contactEmail"] == login and me["contactEmailEnAttente"] == evil
    registered = identity.mailbox.of_type("user.registered")
    assert [e.payload["contactEmail"] for e in registered if e.key == me["id"]] == [login]

    identity.clock.advance(timedelta(seconds=2))
    await identity.post("/v1/auth/password-reset", {"email": login})
    await identity.link_token(login, "PASSWORD_RESET")
    assert not [e for e in links_to(identity, evil) if e.payload["purpose"] == "PASSWORD_RESET"]

    confirmed = await identity.post(
        "/v1/me/contact-email/confirm", {"token": contact_token}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["contactEmail"] == evil
    assert confirmed.json()["contactEmailEnAttente"] is None


async def test_changing_the_contact_email_needs_the_password_and_a_link(identity):
    user = await identity.user()
    new = "compta@ville-exemple.fr"
    body = {"contactEmail": new, "currentPassword": WRONG}
    wrong = await identity.post("/v1/me/contact-email", body, headers=user.headers)
    assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    assert not links_to(identity, new)

    body["currentPassword"] = PASSWORD
    asked = await identity.post("/v1/me/contact-email", body, headers=user.headers)
    assert asked.status_code == 202, asked.text
    assert asked.json()["contactEmail"] == user.email
    assert asked.json()["contactEmailEnAttente"] == new
    sent = await identity.mailbox.wait_for(
        lambda e: e.event_type == "user.verification_requested"
        and e.payload["contactEmail"] == new
        and e.payload["purpose"] == "CONTACT_EMAIL_VERIFICATION"
    )
    assert "link" not in sent[0].payload  # only its id: minted when the mail is sent
    minted = await identity.mint(sent[0].payload["linkId"])
    assert "/compte/confirmation-contact?token=" in minted.json()["link"]
    token = parse_qs(urlparse(minted.json()["link"]).query)["token"][0]
    assert not [
        e for e in identity.mailbox.of_type("user.profile_updated") if e.key == user.id
    ]  # notifications keep going to the proven address

    other = await identity.user()
    stolen = await identity.post(
        "/v1/me/contact-email/confirm", {"token": token}, headers=other.headers
    )
    assert stolen.status_code == 400 and stolen.json()["code"] == "VERIFICATION_LINK_INVALID"
    done = await identity.post(
        "/v1/me/contact-email/confirm", {"token": token}, headers=user.headers
    )
    assert done.status_code == 200 and done.json()["contactEmail"] == new
    updated = await identity.mailbox.wait_for(
        lambda e: e.event_type == "user.profile_updated" and e.key == user.id
    )
    assert updated[0].payload["contactEmail"] == new
    again = await identity.post(
        "/v1/me/contact-email/confirm", {"token": token}, headers=user.headers
    )
    assert again.json()["code"] == "VERIFICATION_LINK_INVALID"


async def test_password_change_is_no_longer_an_unlimited_password_oracle(identity):
    """Regression: wrong current passwords on /v1/me/password and /v1/me/deactivate were
    never counted; now 5 of them lock the account like 5 failed sign-ins."""
    user = await identity.user()
    for attempt in range(5):
        wrong = await identity.post(
            "/v1/me/password",
            {"currentPassword": f"{WRONG}{attempt}", "newPassword": NEW_PASSWORD},
            headers=user.headers,
        )
        assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    # The right password no longer helps, here or at sign-in.
    locked = await identity.post(
        "/v1/me/password",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=user.headers,
    )
    assert locked.status_code == 401 and locked.json()["code"] == "ACCOUNT_LOCKED"
    closing = await identity.post(
        "/v1/me/deactivate", {"currentPassword": PASSWORD}, headers=user.headers
    )
    assert closing.json()["code"] == "ACCOUNT_LOCKED"
    assert (await identity.login(user.email)).json()["code"] == "INVALID_CREDENTIALS"

    identity.clock.advance(timedelta(hours=1, seconds=1))
    session = (await identity.login(user.email)).json()
    changed = await identity.post(
        "/v1/me/password",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {session['accessToken']}"},
    )
    assert changed.status_code == 204, changed.text
    assert (await identity.login(user.email, NEW_PASSWORD)).status_code == 200


async def test_deactivation_failures_count_toward_the_same_lockout(identity):
    user = await identity.user()
    for attempt in range(4):
        await identity.login(user.email, f"{WRONG}{attempt}")
    wrong = await identity.post(
        "/v1/me/deactivate", {"currentPassword": WRONG}, headers=user.headers
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    locked = await identity.post(
        "/v1/me/deactivate", {"currentPassword": PASSWORD}, headers=user.headers
    )
    assert locked.status_code == 401 and locked.json()["code"] == "ACCOUNT_LOCKED"
    assert (await identity.get("/v1/me", headers=user.headers)).json()["status"] == "ACTIVE"


async def test_with_totp_on_sensitive_changes_need_the_code_too(identity):
    user = await identity.user()
    bare = await identity.post("/v1/me/totp", {}, headers=user.headers)
    assert bare.status_code == 422  # the password is required to start an enrolment
    started = await identity.post(
        "/v1/me/totp", {"currentPassword": PASSWORD}, headers=user.headers
    )
    secret = started.json()["secret"]
    code = code_at(secret, identity.clock.now())
    await identity.post("/v1/me/totp/confirm", {"code": code}, headers=user.headers)

    identity.clock.advance(timedelta(seconds=30))
    change = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    missing = await identity.post("/v1/me/password", change, headers=user.headers)
    assert missing.status_code == 401 and missing.json()["code"] == "TOTP_REQUIRED"
    bad = await identity.post("/v1/me/password", {**change, "totp": "000000"}, headers=user.headers)
    assert bad.json()["code"] == "TOTP_INVALID"
    no_password = await identity.post(
        "/v1/me/totp/disable",
        {"currentPassword": WRONG, "code": code_at(secret, identity.clock.now())},
        headers=user.headers,
    )
    assert no_password.json()["code"] == "INVALID_CREDENTIALS"
    code = code_at(secret, identity.clock.now())
    disabled = await identity.post(
        "/v1/me/totp/disable", {"currentPassword": PASSWORD, "code": code}, headers=user.headers
    )
    assert disabled.status_code == 200 and disabled.json()["totpEnabled"] is False
    stored = await identity.ctx.accounts.get(user.id)
    assert stored.value.failed_attempts == 0  # the right proof cleared the two failures
