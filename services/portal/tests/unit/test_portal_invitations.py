"""Mes invitations: the page the invitation mail links to; accept or decline, with CSRF."""

from __future__ import annotations

INVITATION = {"id": "inv-1", "email": "jeanne@ville.fr", "identifiantStructure": "21100001500017",
              "codeService": "COMPTA", "commentaire": "Bienvenue <b>!</b>", "invitedBy": "u-gp",
              "status": "EN_ATTENTE", "createdAt": "2026-12-01T10:00:00Z",
              "expiresAt": "2026-12-31T10:00:00Z", "decidedAt": None,
              "raisonSociale": "Mairie de Chaource"}


async def test_the_page_lists_open_invitations_and_is_in_the_menu(browser):
    await browser.sign_in()
    browser.services.on("GET", "/v1/me/invitations", 200, {"invitations": [INVITATION]})
    page = await browser.get("/mon-compte/invitations")
    assert page.status_code == 200
    assert "Mairie de Chaource" in page.text and "COMPTA" in page.text
    assert "31/12/2026" in page.text
    assert "Bienvenue &lt;b&gt;!&lt;/b&gt;" in page.text  # the inviter's words, escaped
    assert '<a href="/mon-compte/invitations" aria-current="page">Mes invitations</a>' in page.text
    assert '<a href="/mon-compte">Mon compte</a>' in page.text  # only one current entry
    assert 'action="/mon-compte/invitations/inv-1/accepter"' in page.text
    assert "l'invitation de Mairie de Chaource</span>" in page.text  # buttons say which
    assert 'href="/mon-compte/invitations"' in (await browser.get("/mon-compte")).text


async def test_no_invitation_says_so(browser):
    await browser.sign_in()
    browser.services.on("GET", "/v1/me/invitations", 200, {"invitations": []})
    page = await browser.get("/mon-compte/invitations")
    assert "aucune invitation en attente" in page.text


async def test_the_mail_link_goes_through_sign_in_and_back(browser):
    anonymous = await browser.client.get("/mon-compte/invitations")
    assert anonymous.headers["location"] == "/connexion?suite=/mon-compte/invitations"
    await browser.get(anonymous.headers["location"])
    signed = await browser.post("/connexion", {"email": "jeanne@ville.fr", "password": "x",
                                               "suite": "/mon-compte/invitations"})
    assert signed.headers["location"] == "/mon-compte/invitations"


async def test_accepting_and_declining_call_identity_then_say_so(browser):
    await browser.sign_in()
    browser.services.on("GET", "/v1/me/invitations", 200, {"invitations": [INVITATION]})
    browser.services.on("POST", "/v1/invitations/inv-1/accept", 200, {"id": "inv-1"})
    browser.services.on("POST", "/v1/invitations/inv-1/decline", 200, {"id": "inv-1"})
    await browser.get("/mon-compte/invitations")
    accepted = await browser.post("/mon-compte/invitations/inv-1/accepter")
    assert accepted.headers["location"] == "/mon-compte/invitations?message=invitation_acceptee"
    notice = await browser.get(accepted.headers["location"])
    assert "Invitation acceptée" in notice.text
    declined = await browser.post("/mon-compte/invitations/inv-1/refuser")
    assert declined.headers["location"] == "/mon-compte/invitations?message=invitation_refusee"
    made = browser.services.made("POST", "/v1/invitations/inv-1/accept")
    assert len(made) == 1 and made[0].headers["authorization"] == "Bearer at-1"
    assert len(browser.services.made("POST", "/v1/invitations/inv-1/decline")) == 1


async def test_a_refused_answer_is_shown_on_the_page(browser):
    await browser.sign_in()
    browser.services.on("GET", "/v1/me/invitations", 200, {"invitations": []})
    browser.services.refuse("POST", "/v1/invitations/inv-1/accept", 409,
                            "INVITATION_ALREADY_DECIDED", "Cette invitation a déjà reçu une "
                            "réponse.")
    await browser.get("/mon-compte/invitations")
    page = await browser.post("/mon-compte/invitations/inv-1/accepter")
    assert page.status_code == 400 and "Cette invitation a déjà reçu une réponse." in page.text
    assert 'id="erreurs"' in page.text


async def test_answers_need_the_forms_csrf_token_and_a_known_answer(browser):
    await browser.sign_in()
    browser.services.on("GET", "/v1/me/invitations", 200, {"invitations": []})
    await browser.get("/mon-compte/invitations")
    forged = await browser.post("/mon-compte/invitations/inv-1/accepter", csrf=False)
    assert forged.status_code == 403
    odd = await browser.post("/mon-compte/invitations/inv-1/transferer")
    assert odd.status_code == 404
    assert not [c for c in browser.services.calls if c.path.startswith("/v1/invitations")]


async def test_an_invitation_id_cannot_reach_another_identity_path(browser):
    await browser.sign_in()
    browser.services.on("GET", "/v1/me/invitations", 200, {"invitations": []})
    await browser.get("/mon-compte/invitations")
    await browser.post("/mon-compte/invitations/..%2F..%2Fme%2Fdeactivate/accepter")
    assert not browser.services.made("POST", "/v1/me/deactivate")
