"""The portal's pages without a browser: each form's call to the services' APIs, how their
refusals are shown, CSRF, the session and its tokens, and the pages shown when things fail."""

from __future__ import annotations

import asyncio
import json

import httpx

SID = "21100001500017"


async def test_pages_are_french_with_security_headers(browser):
    page = await browser.get("/")
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert 'href="#contenu"' in page.text  # skip link
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"


async def test_a_form_without_its_csrf_token_is_refused_before_any_call(browser):
    await browser.get("/compte/creation")
    refused = await browser.post("/compte/creation", {"email": "a@b.fr"}, csrf=False)
    assert refused.status_code == 403 and "Formulaire expiré" in refused.text
    forged = await browser.post("/compte/creation", {"email": "a@b.fr", "csrf": "0" * 64})
    assert forged.status_code == 403
    assert browser.services.calls == []


async def test_registration_posts_the_account_and_shows_identity_refusals_by_field(browser):
    browser.services.on("POST", "/v1/users", 202, {"message": "ok"})
    await browser.get("/compte/creation")
    form = {"email": "jeanne@ville.fr", "password": "Secret-Long-2026!",
            "passwordConfirmation": "Secret-Long-2026!", "prenom": "Jeanne", "nom": "Martin",
            "telephone": "0102030405"}
    sent = await browser.post("/compte/creation", form)
    assert sent.status_code == 303
    assert browser.services.made("POST", "/v1/users")[0].json() == {
        "email": "jeanne@ville.fr", "password": "Secret-Long-2026!", "prenom": "Jeanne",
        "nom": "Martin", "telephone": "0102030405"}

    browser.services.refuse("POST", "/v1/users", 422, "PASSWORD_TOO_WEAK",
                            "Le mot de passe doit comporter : au moins 12 caractères.",
                            {"manquants": ["au moins 12 caractères"]})
    await browser.get("/compte/creation")
    refused = await browser.post("/compte/creation", form)
    assert refused.status_code == 400
    assert 'id="erreur-password"' in refused.text
    assert "Le mot de passe doit comporter" in refused.text
    assert "PASSWORD_TOO_WEAK" not in refused.text and "manquants" not in refused.text
    assert "Secret-Long-2026!" not in refused.text  # never sent back into the page
    assert 'value="Jeanne"' in refused.text  # the rest of the form is kept


async def test_the_confirmation_link_page_posts_its_token(browser):
    browser.services.on("POST", "/v1/users/verify", 200, {"status": "ACTIVE"})
    page = await browser.get("/compte/verification?token=tok-123")
    assert 'value="tok-123"' in page.text
    confirmed = await browser.post("/compte/verification", {"token": "tok-123"})
    assert confirmed.headers["location"] == "/connexion?message=adresse_confirmee"
    assert browser.services.made("POST", "/v1/users/verify")[0].json() == {"token": "tok-123"}


async def test_sign_in_keeps_only_a_hash_and_sealed_tokens(browser):
    signed = await browser.sign_in()
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = next(c for c in signed.headers.get_list("set-cookie")
                  if c.startswith("chorale_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    session_id = cookie.split(";")[0].split("=", 1)[1]
    stored = browser.store.collections["sessions"]
    assert list(stored) != [session_id] and len(stored) == 1
    record = json.dumps(next(iter(stored.values())), default=str)
    assert "rt-secret-1" not in record and "at-1" not in record and session_id not in record
    home = await browser.get("/")
    assert "Bonjour Jeanne Martin" in home.text and "rt-secret-1" not in home.text
    assert browser.services.made("GET", "/v1/me")[0].headers["authorization"] == "Bearer at-1"


async def test_signing_in_again_ends_the_previous_session(browser):
    await browser.sign_in()
    await browser.get("/connexion")
    await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"})
    assert len(browser.store.collections["sessions"]) == 1
    assert len(browser.services.made("POST", "/v1/auth/logout")) == 1


async def test_a_session_cookie_over_https_is_secure(browser):
    browser.client.base_url = httpx.URL("https://portail.test")
    signed = await browser.sign_in()
    cookie = next(c for c in signed.headers.get_list("set-cookie")
                  if c.startswith("chorale_session="))
    assert "Secure" in cookie


async def test_a_refused_sign_in_shows_identity_message_at_the_top(browser):
    browser.services.refuse("POST", "/v1/auth/login", 401, "INVALID_CREDENTIALS",
                            "Adresse électronique ou mot de passe incorrect.")
    refused = await browser.sign_in()
    assert refused.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in refused.text
    assert "chorale_session" not in refused.headers.get("set-cookie", "")


async def test_sign_in_with_totp_asks_the_code_then_signs_in(browser):
    def login(call):
        body = call.json()
        if "totp" not in body:
            return httpx.Response(401, json={"code": "TOTP_REQUIRED",
                                             "message": "Code requis.", "details": {}})
        if body["totp"] != "123456":
            return httpx.Response(401, json={"code": "TOTP_INVALID",
                                             "message": "Code incorrect.", "details": {}})
        return httpx.Response(200, json={"accessToken": "at-2", "refreshToken": "rt-2",
                                         "expiresIn": 900})

    browser.services.on("POST", "/v1/auth/login", login)
    await browser.get("/connexion")
    step = await browser.post("/connexion", {"email": "jeanne@ville.fr",
                                             "password": "Mot-de-passe-Unique-1"})
    assert "Code de vérification" in step.text
    assert "Mot-de-passe-Unique-1" not in step.text  # the password is not carried by the page
    assert step.headers["set-cookie"].startswith("chorale_connexion=")
    held = json.dumps(list(browser.store.collections["pending_sign_ins"].values()), default=str)
    assert "Mot-de-passe-Unique-1" not in held  # nor kept in clear
    wrong = await browser.post("/connexion/code", {"totp": "000000", "suite": "/"})
    assert wrong.status_code == 401 and 'id="erreur-totp"' in wrong.text
    done = await browser.post("/connexion/code", {"totp": "123456", "suite": "/structures"})
    assert done.status_code == 303 and done.headers["location"] == "/structures"
    assert browser.services.made("POST", "/v1/auth/login")[-1].json() == {
        "email": "jeanne@ville.fr", "password": "Mot-de-passe-Unique-1", "totp": "123456"}
    assert browser.store.collections["pending_sign_ins"] == {}


async def test_the_next_page_after_sign_in_is_never_another_site(browser):
    await browser.get("/connexion?suite=//evil.example/")
    signed = await browser.post("/connexion", {"email": "a@b.fr", "password": "x",
                                               "suite": "https://evil.example/"})
    assert signed.headers["location"] == "/"


async def test_an_expiring_access_token_is_refreshed_once_for_simultaneous_pages(browser):
    browser.services.on("POST", "/v1/auth/login", 200, {
        "accessToken": "at-old", "refreshToken": "rt-old", "expiresIn": 0})
    browser.services.on("POST", "/v1/auth/refresh", 200, {
        "accessToken": "at-new", "refreshToken": "rt-new", "expiresIn": 900})
    browser.services.on("GET", "/v1/structures", 200, {"listeStructures": [],
                                                       "parametresRetour": {"total": 0}})
    await browser.sign_in()
    pages = await asyncio.gather(*[browser.client.get("/structures") for _ in range(5)])
    assert all(p.status_code == 200 for p in pages)
    refreshes = browser.services.made("POST", "/v1/auth/refresh")
    assert [r.json() for r in refreshes] == [{"refreshToken": "rt-old"}]
    searches = browser.services.made("GET", "/v1/structures")
    assert {s.headers["authorization"] for s in searches} == {"Bearer at-new"}


async def test_a_refused_refresh_ends_the_session(browser):
    browser.services.on("POST", "/v1/auth/login", 200, {
        "accessToken": "at-old", "refreshToken": "rt-old", "expiresIn": 0})
    browser.services.refuse("POST", "/v1/auth/refresh", 401, "TOKEN_REVOKED", "Révoqué.")
    await browser.sign_in()
    page = await browser.client.get("/structures")
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    assert browser.store.collections["sessions"] == {}


async def test_sign_out_revokes_at_identity_and_forgets_the_session(browser):
    await browser.sign_in()
    await browser.get("/")
    out = await browser.post("/deconnexion")
    assert out.status_code == 303
    assert browser.services.made("POST", "/v1/auth/logout")[0].json() == {
        "refreshToken": "rt-secret-1"}
    assert browser.store.collections["sessions"] == {}
    after = await browser.client.get("/structures")
    assert after.headers["location"] == "/connexion?suite=/structures"


async def test_sign_out_works_while_identity_is_down(browser):
    await browser.sign_in()
    await browser.get("/")
    browser.services.down = True
    out = await browser.post("/deconnexion")
    assert out.status_code == 303 and out.headers["location"] == "/connexion?message=deconnecte"
    assert browser.store.collections["sessions"] == {}


async def test_a_service_that_is_down_gives_the_french_503_page(browser):
    await browser.sign_in()
    browser.services.down = True
    page = await browser.get(f"/structures/{SID}")
    assert page.status_code == 503
    assert "Service momentanément indisponible" in page.text
    assert "Traceback" not in page.text and "ConnectError" not in page.text


async def test_a_session_store_that_is_down_gives_the_503_page_too(browser):
    from pymongo.errors import ServerSelectionTimeoutError

    await browser.sign_in()

    async def unreachable(*_args):
        raise ServerSelectionTimeoutError("no server")

    browser.store.get = unreachable
    page = await browser.get("/structures")
    assert page.status_code == 503 and "Service momentanément indisponible" in page.text


async def test_an_unknown_page_is_a_french_404(browser):
    page = await browser.get("/nulle-part")
    assert page.status_code == 404 and "Page introuvable" in page.text


async def test_forgotten_password_and_the_reset_page(browser):
    browser.services.on("POST", "/v1/auth/password-reset", 202, {"message": "ok"})
    browser.services.on("POST", "/v1/auth/password-reset/confirm", 200, {"message": "ok"})
    await browser.get("/compte/mot-de-passe-oublie")
    sent = await browser.post("/compte/mot-de-passe-oublie", {"email": "jeanne@ville.fr"})
    assert sent.headers["location"] == "/connexion?message=lien_envoye"
    page = await browser.get("/compte/reinitialisation-mot-de-passe?token=t-9")
    assert 'value="t-9"' in page.text
    mismatch = await browser.post("/compte/reinitialisation-mot-de-passe", {
        "token": "t-9", "newPassword": "A-long-one-2026", "newPasswordConfirmation": "other"})
    assert mismatch.status_code == 400 and 'id="erreur-newPasswordConfirmation"' in mismatch.text
    done = await browser.post("/compte/reinitialisation-mot-de-passe", {
        "token": "t-9", "newPassword": "A-long-one-2026",
        "newPasswordConfirmation": "A-long-one-2026"})
    assert done.status_code == 303
    assert browser.services.made("POST", "/v1/auth/password-reset/confirm")[0].json() == {
        "token": "t-9", "newPassword": "A-long-one-2026"}
