"""The portal against identity's account security: identity limits sign-ins, registrations,
mails and re-authentications per client address, so the portal passes the browser's address
on (`X-Forwarded-For`); a limit reached is a message with the wait on the form; a refused
re-authentication is about the form's password or code, never a sign-out."""

from __future__ import annotations

import httpx
import pytest

from chorale_portal.domain.form_errors import wait_fr

BROWSER = ("203.0.113.7", 50000)
ME = {"id": "u-1", "loginEmail": "jeanne@ville.fr", "prenom": "Jeanne", "nom": "Martin",
      "roles": [], "totpEnabled": False, "contactEmail": "jeanne@ville.fr",
      "contactEmailEnAttente": None, "telephone": None, "mobile": None}


def forwarded(browser, method: str, path: str) -> list[str | None]:
    return [c.headers.get("x-forwarded-for") for c in browser.services.made(method, path)]


async def test_every_call_to_identity_carries_the_browsers_address(make_browser):
    browser = make_browser(address=BROWSER)
    await browser.get("/compte/creation")
    browser.services.on("POST", "/v1/users", 202, {"message": "ok"})
    await browser.post("/compte/creation", {
        "email": "jeanne@ville.fr", "password": "Secret-2026-ok!",
        "passwordConfirmation": "Secret-2026-ok!", "prenom": "Jeanne", "nom": "Martin"})
    await browser.sign_in()
    await browser.get("/mon-compte")
    assert forwarded(browser, "POST", "/v1/users") == ["203.0.113.7"]
    assert forwarded(browser, "POST", "/v1/auth/login") == ["203.0.113.7"]
    assert set(forwarded(browser, "GET", "/v1/me")) == {"203.0.113.7"}


async def test_a_forwarded_for_sent_by_the_browser_itself_is_not_believed(make_browser):
    browser = make_browser(address=BROWSER)  # no trusted proxy in front of the portal (default)
    await browser.get("/connexion")
    await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"},
                       headers={"X-Forwarded-For": "198.51.100.99"})
    assert forwarded(browser, "POST", "/v1/auth/login") == ["203.0.113.7"]


async def test_behind_its_own_trusted_proxy_the_portal_passes_on_the_address_it_saw(make_browser):
    browser = make_browser(address=("10.0.0.2", 443), trusted_proxies="10.0.0.0/8")
    await browser.get("/connexion")
    await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"},
                       headers={"X-Forwarded-For": "198.51.100.99, 203.0.113.9"})
    # the rightmost address the proxy did not vouch for; what the browser wrote is ignored
    assert forwarded(browser, "POST", "/v1/auth/login") == ["203.0.113.9"]


def test_an_invalid_trusted_proxies_setting_is_refused_at_start(make_browser):
    with pytest.raises(ValueError):
        make_browser(trusted_proxies="pas une adresse")


def test_waits_are_said_in_seconds_then_in_minutes_rounded_up():
    assert wait_fr(1) == "1 seconde"
    assert wait_fr(45) == "45 secondes"
    assert wait_fr(60) == "1 minute"
    assert wait_fr(61) == "2 minutes"
    assert wait_fr(None) is None and wait_fr("x") is None and wait_fr(0) is None


async def test_too_many_sign_ins_show_the_wait_on_the_sign_in_form(browser):
    browser.services.refuse("POST", "/v1/auth/login", 429, "RATE_LIMITED",
                            "Trop de tentatives : réessayez dans 90 secondes.",
                            {"retryAfter": 90})
    await browser.get("/connexion")
    page = await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"})
    assert page.status_code == 429
    assert "réessayez dans 2 minutes" in page.text
    assert 'id="champ-password"' in page.text  # the form, not an error page
    assert "RATE_LIMITED" not in page.text


async def test_the_wait_comes_from_retry_after_when_the_body_has_none(browser):
    browser.services.on("POST", "/v1/auth/password-reset", httpx.Response(
        429, json={"code": "RATE_LIMITED", "message": "Trop de tentatives."},
        headers={"Retry-After": "30"}))
    await browser.get("/compte/mot-de-passe-oublie")
    page = await browser.post("/compte/mot-de-passe-oublie", {"email": "jeanne@ville.fr"})
    assert "réessayez dans 30 secondes" in page.text and 'id="champ-email"' in page.text


async def test_too_many_codes_keep_the_code_step_and_the_typed_password(browser):
    attempts: list[dict] = []

    def login(call):
        attempts.append(call.json())
        if "totp" not in call.json():
            return httpx.Response(401, json={"code": "TOTP_REQUIRED", "message": "Code requis."})
        if len(attempts) == 2:
            return httpx.Response(429, json={"code": "RATE_LIMITED", "message": "Trop.",
                                             "details": {"retryAfter": 5}},
                                  headers={"Retry-After": "5"})
        return httpx.Response(200, json={"accessToken": "at-1", "refreshToken": "rt-1",
                                         "expiresIn": 900})

    browser.services.on("POST", "/v1/auth/login", login)
    await browser.sign_in()
    limited = await browser.post("/connexion/code", {"totp": "123456"})
    assert limited.status_code == 429 and "réessayez dans 5 secondes" in limited.text
    assert 'id="champ-totp"' in limited.text
    done = await browser.post("/connexion/code", {"totp": "123456"})
    assert done.status_code == 303 and attempts[-1] == {
        "email": "jeanne@ville.fr", "password": "x", "totp": "123456"}


async def test_a_limited_re_authentication_is_a_message_on_the_form(browser):
    await browser.sign_in()
    browser.services.refuse("POST", "/v1/me/password", 429, "RATE_LIMITED", "Trop.",
                            {"retryAfter": 12})
    await browser.get("/mon-compte/mot-de-passe")
    page = await browser.post("/mon-compte/mot-de-passe", {
        "currentPassword": "Actuel-2026!", "newPassword": "Nouveau-2027?",
        "newPasswordConfirmation": "Nouveau-2027?"})
    assert "réessayez dans 12 secondes" in page.text and 'id="champ-currentPassword"' in page.text
    assert (await browser.get("/mon-compte")).status_code == 200  # still signed in


@pytest.mark.parametrize(("code", "field"), [
    ("INVALID_CREDENTIALS", "currentPassword"), ("ACCOUNT_LOCKED", "currentPassword"),
    ("TOTP_REQUIRED", "totp"), ("TOTP_INVALID", "totp")])
async def test_a_refused_re_authentication_is_shown_by_its_field_and_keeps_the_session(
        browser, code, field):
    browser.services.on("GET", "/v1/me", 200, {**ME, "totpEnabled": True})
    await browser.sign_in()
    message = f"Refus {code}."
    for path, page_path, form in [
        ("/v1/me/password", "/mon-compte/mot-de-passe",
         {"newPassword": "Nouveau-2027?", "newPasswordConfirmation": "Nouveau-2027?"}),
        ("/v1/me/deactivate", "/mon-compte/desactivation", {}),
        ("/v1/me/contact-email", "/mon-compte/adresse-contact",
         {"contactEmail": "compta@ville.fr"}),
    ]:
        browser.services.refuse("POST", path, 401, code, message)
        await browser.get("/mon-compte")
        page = await browser.post(page_path, {"currentPassword": "Actuel-2026!",
                                              "totp": "123456", **form})
        assert page.status_code == 400, path
        assert f'id="erreur-{field}">{message}' in page.text, path
    assert browser.store.collections["sessions"]  # not signed out
    assert not browser.services.made("POST", "/v1/auth/logout")
    assert (await browser.get("/mon-compte")).status_code == 200


async def test_a_refused_code_when_disabling_totp_is_shown_by_the_code_field(browser):
    browser.services.on("GET", "/v1/me", 200, {**ME, "totpEnabled": True})
    await browser.sign_in()
    browser.services.refuse("POST", "/v1/me/totp/disable", 401, "TOTP_INVALID", "Code faux.")
    await browser.get("/mon-compte/double-authentification")
    page = await browser.post("/mon-compte/double-authentification/desactivation",
                              {"currentPassword": "Actuel-2026!", "code": "000000"})
    assert page.status_code == 400 and 'id="erreur-code">Code faux.' in page.text
    assert (await browser.get("/mon-compte")).status_code == 200


async def test_identity_busy_hashing_passwords_is_a_wait_on_the_form_not_the_outage_page(browser):
    browser.services.on("POST", "/v1/auth/login", httpx.Response(
        503, json={"code": "SERVICE_BUSY", "message": "Occupé.", "details": {}},
        headers={"Retry-After": "2"}))
    await browser.get("/connexion")
    page = await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"})
    assert page.status_code == 503 and "réessayez dans 2 secondes" in page.text.lower()
    assert 'id="champ-password"' in page.text
    browser.services.on("POST", "/v1/auth/login", httpx.Response(
        503, json={"code": "SERVICE_UNAVAILABLE", "message": "En panne."}))
    down = await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"})
    assert down.status_code == 503 and "Service momentanément indisponible" in down.text
