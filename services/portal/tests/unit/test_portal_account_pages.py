"""Mon compte against identity's contract for sensitive changes: the current password (and the
TOTP code when the account has one) goes with each; the contact e-mail is confirmed from a
link; the QR code is drawn by the portal."""

from __future__ import annotations

ME = {"id": "u-1", "loginEmail": "jeanne@ville.fr", "prenom": "Jeanne", "nom": "Martin",
      "roles": [], "totpEnabled": False, "contactEmail": "jeanne@ville.fr",
      "contactEmailEnAttente": None, "telephone": None, "mobile": None}


async def signed_in(browser, **me):
    browser.services.on("GET", "/v1/me", 200, {**ME, **me})
    await browser.sign_in()
    return browser


async def test_profile_changes_names_and_phones_and_the_header_follows(browser):
    await signed_in(browser)
    browser.services.on("PATCH", "/v1/me", 200, {**ME, "prenom": "Jeanne-Marie"})
    await browser.get("/mon-compte")
    saved = await browser.post("/mon-compte/profil", {"prenom": "Jeanne-Marie", "nom": "Martin",
                                                       "telephone": "0102030405", "mobile": ""})
    assert saved.status_code == 303
    assert browser.services.made("PATCH", "/v1/me")[0].json() == {
        "prenom": "Jeanne-Marie", "nom": "Martin", "telephone": "0102030405", "mobile": ""}
    home = await browser.get("/")
    assert "Jeanne-Marie Martin" in home.text


async def test_a_new_contact_email_is_sent_for_confirmation_with_the_password(browser):
    await signed_in(browser, contactEmailEnAttente="compta@ville.fr")
    page = await browser.get("/mon-compte")
    assert "En attente de confirmation" in page.text and "compta@ville.fr" in page.text
    browser.services.on("POST", "/v1/me/contact-email", 202, {"message": "ok"})
    sent = await browser.post("/mon-compte/adresse-contact", {
        "contactEmail": "compta@ville.fr", "currentPassword": "Actuel-2026!"})
    assert sent.headers["location"] == "/mon-compte?message=adresse_contact_envoyee"
    assert browser.services.made("POST", "/v1/me/contact-email")[0].json() == {
        "contactEmail": "compta@ville.fr", "currentPassword": "Actuel-2026!"}
    browser.services.refuse("POST", "/v1/me/contact-email", 401, "INVALID_CREDENTIALS",
                            "Mot de passe incorrect.")
    refused = await browser.post("/mon-compte/adresse-contact", {
        "contactEmail": "compta@ville.fr", "currentPassword": "faux"})
    assert refused.status_code == 400  # and not a sign-out: it is the form's password
    assert 'id="erreur-currentPassword">Mot de passe incorrect.' in refused.text


async def test_the_contact_confirmation_page_posts_its_token_once_signed_in(browser):
    anonymous = await browser.client.get("/compte/confirmation-contact?token=c-1")
    assert anonymous.headers["location"] == (
        "/connexion?suite=/compte/confirmation-contact%3Ftoken%3Dc-1")
    await signed_in(browser)
    page = await browser.get("/compte/confirmation-contact?token=c-1")
    assert 'value="c-1"' in page.text
    browser.services.on("POST", "/v1/me/contact-email/confirm", 200, ME)
    done = await browser.post("/compte/confirmation-contact", {"token": "c-1"})
    assert done.headers["location"] == "/mon-compte?message=adresse_contact_confirmee"
    assert browser.services.made("POST", "/v1/me/contact-email/confirm")[0].json() == {
        "token": "c-1"}


async def test_password_change_sends_current_new_and_the_totp_code_when_enabled(browser):
    await signed_in(browser, totpEnabled=True)
    page = await browser.get("/mon-compte/mot-de-passe")
    assert 'id="champ-totp"' in page.text
    browser.services.on("POST", "/v1/me/password", 204)
    done = await browser.post("/mon-compte/mot-de-passe", {
        "currentPassword": "Actuel-2026!", "newPassword": "Nouveau-2027?",
        "newPasswordConfirmation": "Nouveau-2027?", "totp": "123456"})
    assert done.status_code == 303
    assert browser.services.made("POST", "/v1/me/password")[0].json() == {
        "currentPassword": "Actuel-2026!", "newPassword": "Nouveau-2027?", "totp": "123456"}
    browser.services.refuse("POST", "/v1/me/password", 422, "PASSWORD_TOO_WEAK",
                            "Le mot de passe doit comporter : au moins 12 caractères.")
    weak = await browser.post("/mon-compte/mot-de-passe", {
        "currentPassword": "Actuel-2026!", "newPassword": "court",
        "newPasswordConfirmation": "court", "totp": "123456"})
    assert 'id="erreur-newPassword">Le mot de passe doit comporter' in weak.text


async def test_totp_enrolment_shows_the_qr_code_inline_then_confirms_the_code(browser):
    await signed_in(browser)
    browser.services.on("POST", "/v1/me/totp", 200, {
        "otpauthUri": "otpauth://totp/Chorale:jeanne%40ville.fr?secret=JBSWY3DPEHPK3PXP"
                      "&issuer=Chorale", "secret": "JBSWY3DPEHPK3PXP", "confirmed": False})
    await browser.get("/mon-compte/double-authentification")
    started = await browser.post("/mon-compte/double-authentification/activation",
                                 {"currentPassword": "Actuel-2026!"})
    assert started.status_code == 200
    assert "<svg" in started.text and "JBSWY3DPEHPK3PXP" in started.text
    assert "<img" not in started.text  # drawn in the page, not fetched from anywhere
    assert browser.services.made("POST", "/v1/me/totp")[0].json() == {
        "currentPassword": "Actuel-2026!"}
    browser.services.refuse("POST", "/v1/me/totp/confirm", 401, "TOTP_INVALID",
                            "Code incorrect ou expiré.")
    wrong = await browser.post("/mon-compte/double-authentification/confirmation",
                               {"code": "000000"})
    assert wrong.status_code == 400 and 'id="erreur-code">Code incorrect' in wrong.text
    browser.services.on("POST", "/v1/me/totp/confirm", 200, {**ME, "totpEnabled": True})
    done = await browser.post("/mon-compte/double-authentification/confirmation",
                              {"code": "123456"})
    assert done.headers["location"] == "/mon-compte?message=totp_active"


async def test_totp_is_disabled_with_the_password_and_a_code(browser):
    await signed_in(browser, totpEnabled=True)
    browser.services.on("POST", "/v1/me/totp/disable", 200, ME)
    await browser.get("/mon-compte/double-authentification")
    await browser.post("/mon-compte/double-authentification/desactivation",
                       {"currentPassword": "Actuel-2026!", "code": "654321"})
    assert browser.services.made("POST", "/v1/me/totp/disable")[0].json() == {
        "currentPassword": "Actuel-2026!", "code": "654321"}


async def test_deactivation_asks_the_password_then_ends_the_session(browser):
    await signed_in(browser)
    browser.services.refuse("POST", "/v1/me/deactivate", 409, "GP_MUST_TRANSFER_FIRST",
                            "Transférez d'abord le rôle de gestionnaire principal.",
                            {"structures": ["21100001500017"]})
    await browser.get("/mon-compte/desactivation")
    refused = await browser.post("/mon-compte/desactivation", {"currentPassword": "A-2026!"})
    assert refused.status_code == 400 and "Transférez d" in refused.text
    browser.services.on("POST", "/v1/me/deactivate", 200, {**ME, "status": "DEACTIVATED"})
    done = await browser.post("/mon-compte/desactivation", {"currentPassword": "A-2026!"})
    assert done.headers["location"] == "/connexion?message=compte_desactive"
    assert browser.services.made("POST", "/v1/me/deactivate")[-1].json() == {
        "currentPassword": "A-2026!"}
    assert browser.store.collections["sessions"] == {}
