"""Mes rattachements, Mes habilitations, Approbations, Utilisateurs and Raccordements: the calls
the pages make with the person's token, what they show, and who sees them (the authorization
matrix: no menu entry, tab, button or page for someone without the right; the address typed
gives « Accès refusé » and calls nothing)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from chorale_portal.domain.people import Change, habilitation_changes, held_at_level

SID = "21100001500017"
MANAGED = f"/structures/{SID}"
ROW = {"id": "rat-1", "etat": "EN_COURS_DE_VALIDATION",
       "description": "Demande de rattachement à la structure",
       "demandeur": "Paul Durand (paul@ville.fr)", "structure": SID,
       "raisonSociale": "Mairie de Chaource", "service": None, "cree": "2026-12-01T10:00:00Z"}
APPLICATIONS = [{"application": "FACTURES_RECUES", "libelle": "Factures reçues"},
                {"application": "ORGANISATION", "libelle": "Organisation"},
                {"application": "RACCORDEMENTS", "libelle": "Raccordements"}]
PAUL = {"userId": "u-2", "prenom": "Paul", "nom": "Durand", "email": "paul@ville.fr",
        "statut": "ACTIVE", "gestionnairePrincipal": False,
        "rattachements": [{"id": "rat-1", "codeService": None, "depuis": "2026-12-01"}]}
JEANNE = {"userId": "u-1", "prenom": "Jeanne", "nom": "Martin", "email": "jeanne@ville.fr",
          "statut": "ACTIVE", "gestionnairePrincipal": True, "rattachements": []}
GRANT = {"grantId": "hab-1", "userId": "u-2", "structure": SID, "codeService": None,
         "application": "FACTURES_RECUES", "mode": "CONSULTATION",
         "profil": "Factures reçues consultation", "version": 3}
ACCOUNT = {"id": "ta-1", "clientId": "ta_abc", "identifiantStructure": SID, "libelle": "EDI",
           "status": "ACTIVE", "createdAt": "2026-12-01T10:00:00Z"}

# Who the person is, as identity's « Mes approbations » tells it.
ROLES = {
    "utilisateur": [],
    "gestionnaire de service": [{"identifiant": SID, "raisonSociale": "Mairie de Chaource",
                                 "services": ["COMPTA"], "gestionnairePrincipal": False}],
    "organisation modification": [{"identifiant": SID, "raisonSociale": "Mairie de Chaource",
                                   "services": None, "gestionnairePrincipal": False}],
    "gestionnaire principal": [{"identifiant": SID, "raisonSociale": "Mairie de Chaource",
                                "services": None, "gestionnairePrincipal": True}],
}


async def as_role(browser, role: str, waiting: int = 2):
    s = browser.services
    rows = [ROW] if ROLES[role] else []
    s.on("GET", "/v1/me/approbations", 200, {"approbations": rows, "structures": ROLES[role],
                                             "enAttente": waiting if ROLES[role] else 0})
    s.on("GET", f"/v1/structures/{SID}/services", 200, {"listeServices": [
        {"codeService": "COMPTA", "libelle": "Comptabilité", "statut": "ACTIF"}]})
    s.on("GET", f"/v1/structures/{SID}/utilisateurs", 200, {"utilisateurs": [JEANNE, PAUL]})
    s.on("GET", "/v1/applications", 200, APPLICATIONS)
    s.on("GET", f"/v1/structures/{SID}/habilitations", 200, {"habilitations": [GRANT]})
    s.on("GET", f"/v1/structures/{SID}/technical-accounts", 200,
         {"comptesTechniques": [ACCOUNT]})
    s.on("GET", "/v1/me/rattachements", 200, {"rattachements": []})
    s.on("GET", "/v1/me/habilitations", 200, {"habilitations": []})
    await browser.sign_in()
    return browser


# -- the menu ---------------------------------------------------------------------------------
async def test_a_person_managing_nothing_has_no_approbations_nor_raccordements_entry(browser):
    await as_role(browser, "utilisateur")
    page = await browser.get("/")
    assert 'href="/mon-compte/rattachements"' in page.text
    assert 'href="/mon-compte/habilitations"' in page.text
    assert 'href="/approbations"' not in page.text and 'href="/raccordements"' not in page.text


async def test_a_gestionnaire_sees_approbations_with_its_badge(browser):
    await as_role(browser, "gestionnaire principal", waiting=2)
    page = await browser.get("/")
    assert ('<a href="/approbations">Approbations <span class="pastille">2'
            '<span class="visuellement-cache"> en attente</span></span></a>') in page.text
    assert 'href="/raccordements"' in page.text
    # asked once, then kept for the next pages of the session
    await browser.get("/mon-compte/habilitations")
    assert len(browser.services.made("GET", "/v1/me/approbations")) == 1


async def test_a_service_level_gestionnaire_has_approbations_but_no_raccordements(browser):
    await as_role(browser, "gestionnaire de service")
    page = await browser.get("/")
    assert 'href="/approbations"' in page.text and 'href="/raccordements"' not in page.text


# -- the authorization matrix -----------------------------------------------------------------
PAGES = {  # address: the roles that may open it
    "/mon-compte/rattachements": set(ROLES),
    "/mon-compte/habilitations": set(ROLES),
    "/approbations": {"gestionnaire de service", "organisation modification",
                      "gestionnaire principal"},
    "/approbations/rat-1": {"gestionnaire de service", "organisation modification",
                            "gestionnaire principal"},
    "/raccordements": {"organisation modification", "gestionnaire principal"},
    f"{MANAGED}/raccordements": {"organisation modification", "gestionnaire principal"},
    f"{MANAGED}/raccordements/ta-1/revoquer": {"organisation modification",
                                                "gestionnaire principal"},
    f"{MANAGED}/utilisateurs": {"organisation modification", "gestionnaire principal"},
    f"{MANAGED}/utilisateurs/u-2": {"organisation modification", "gestionnaire principal"},
    f"{MANAGED}/utilisateurs/u-2/supprimer-tout": {"organisation modification",
                                                    "gestionnaire principal"},
    f"{MANAGED}/gestionnaire-principal": {"gestionnaire principal"},
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_each_screen_opens_for_those_allowed_and_says_access_denied_to_others(
        make_browser, role):
    browser = await as_role(make_browser(), role)
    for address, allowed in PAGES.items():
        page = await browser.get(address)
        if role in allowed:
            assert page.status_code == 200, (address, page.status_code)
            assert "Accès refusé" not in page.text
        else:
            assert page.status_code == 403, (address, page.status_code)
            assert "<h1>Accès refusé</h1>" in page.text, address


@pytest.mark.parametrize("role", list(ROLES))
async def test_the_structure_page_shows_only_the_tabs_and_buttons_allowed(make_browser, role):
    browser = await as_role(make_browser(), role)
    structure = await browser.get(MANAGED)
    whole = role in ("organisation modification", "gestionnaire principal")
    assert (f'href="{MANAGED}/utilisateurs"' in structure.text) is whole
    assert (f'href="{MANAGED}/raccordements"' in structure.text) is whole
    if whole:
        users = await browser.get(f"{MANAGED}/utilisateurs")
        transfer = f'href="{MANAGED}/gestionnaire-principal"'
        assert (transfer in users.text) is (role == "gestionnaire principal")


@pytest.mark.parametrize("role", ["utilisateur", "gestionnaire de service"])
async def test_actions_typed_by_hand_are_refused_without_calling_anything(make_browser, role):
    browser = await as_role(make_browser(), role)
    await browser.get("/mon-compte/habilitations")  # a page of theirs, for its CSRF token
    before = len(browser.services.calls)
    for address, data in ((f"{MANAGED}/raccordements", {"libelle": "EDI"}),
                          (f"{MANAGED}/raccordements/ta-1/revoquer", {}),
                          (f"{MANAGED}/utilisateurs/invitation", {"email": "x@y.fr"}),
                          (f"{MANAGED}/utilisateurs/u-2", {"mode-ORGANISATION": "MODIFICATION"}),
                          (f"{MANAGED}/utilisateurs/u-2/supprimer-tout", {}),
                          (f"{MANAGED}/gestionnaire-principal",
                           {"userId": "u-2", "confirmation": SID})):
        refused = await browser.post(address, data)
        assert refused.status_code == 403, address
    changes = [c for c in browser.services.calls[before:] if c.method != "GET"]
    assert changes == []


# -- Mes rattachements ------------------------------------------------------------------------
async def test_a_person_finds_a_structure_and_asks_to_join_a_service_with_a_comment(browser):
    await as_role(browser, "utilisateur")
    s = browser.services
    s.on("GET", "/v1/annuaire/structures", 200, {"listeStructures": [
        {"identifiant": SID, "raisonSociale": "Mairie de Chaource",
         "libelleStructure": "Chaource", "ville": "CHAOURCE", "codePostal": "10210"}],
        "parametresRetour": {"total": 1}})
    s.on("GET", f"/v1/annuaire/structures/{SID}/services", 200, {
        "identifiant": SID, "raisonSociale": "Mairie de Chaource",
        "listeServices": [{"codeService": "COMPTA", "libelle": "Comptabilité"}]})
    s.on("POST", "/v1/rattachements", 201, {"id": "rat-9"})
    found = await browser.get("/mon-compte/rattachements/demande?recherche=chaource")
    assert s.made("GET", "/v1/annuaire/structures")[0].query["recherche"] == "chaource"
    assert f'href="/mon-compte/rattachements/demande/{SID}"' in found.text
    form = await browser.get(f"/mon-compte/rattachements/demande/{SID}")
    assert '<option value="COMPTA"' in form.text and "Toute la structure" in form.text
    no_comment = await browser.post(f"/mon-compte/rattachements/demande/{SID}",
                                    {"codeService": "COMPTA", "commentaire": "  "})
    assert no_comment.status_code == 400 and 'id="erreur-commentaire"' in no_comment.text
    assert s.made("POST", "/v1/rattachements") == []
    sent = await browser.post(f"/mon-compte/rattachements/demande/{SID}",
                              {"codeService": "COMPTA", "commentaire": "Agent comptable"})
    assert sent.headers["location"] == "/mon-compte/rattachements?message=rattachement_demande"
    assert s.made("POST", "/v1/rattachements")[0].json() == {
        "structure": SID, "codeService": "COMPTA", "commentaire": "Agent comptable"}
    assert s.made("POST", "/v1/rattachements")[0].headers["authorization"] == "Bearer at-1"


async def test_my_rattachements_and_me_detacher_with_the_gp_refusal_shown(browser):
    await as_role(browser, "utilisateur")
    s = browser.services
    s.on("GET", "/v1/me/rattachements", 200, {"rattachements": [
        {"id": "rat-1", "identifiantStructure": SID, "raisonSociale": "Mairie de Chaource",
         "codeService": None, "status": "VALIDEE", "createdAt": "2026-12-01T10:00:00Z",
         "commentaire": "Agent", "decisionCommentaire": "Bienvenue"},
        {"id": "rat-2", "identifiantStructure": SID, "raisonSociale": "Mairie de Chaource",
         "codeService": "COMPTA", "status": "REFUSEE", "createdAt": "2026-12-01T10:00:00Z",
         "decisionCommentaire": "Inconnu"}]})
    page = await browser.get("/mon-compte/rattachements")
    assert "Validée" in page.text and "Refusée" in page.text and "Réponse : Inconnu" in page.text
    assert page.text.count("Me détacher<span") == 1  # only the valid one
    confirm = await browser.get("/mon-compte/rattachements/rat-1/detacher")
    assert "Confirmer : me détacher" in confirm.text
    assert (await browser.get("/mon-compte/rattachements/rat-2/detacher")).status_code == 404
    s.refuse("POST", "/v1/rattachements/rat-1/detach", 409, "GP_MUST_TRANSFER_FIRST",
             "Transférez d'abord le rôle de gestionnaire principal.")
    refused = await browser.post("/mon-compte/rattachements/rat-1/detacher")
    assert refused.status_code == 409 and "Transférez d" in refused.text
    s.on("POST", "/v1/rattachements/rat-1/detach", 200, {"id": "rat-1"})
    done = await browser.post("/mon-compte/rattachements/rat-1/detacher")
    assert done.headers["location"] == "/mon-compte/rattachements?message=detache"


# -- Mes habilitations ------------------------------------------------------------------------
async def test_my_habilitations_are_searched_and_exported_without_formulas(browser):
    await as_role(browser, "utilisateur")
    browser.services.on("GET", "/v1/me/habilitations", 200, {"habilitations": [
        {"structure": SID, "raisonSociale": "=HYPERLINK(\"x\")", "codeService": None,
         "profil": "Factures reçues consultation"},
        {"structure": SID, "raisonSociale": "Mairie", "codeService": "COMPTA",
         "libelleService": "Comptabilité", "profil": "Organisation modification"}]})
    page = await browser.get("/mon-compte/habilitations?recherche=organisation")
    assert "Organisation modification" in page.text
    assert "Factures reçues consultation" not in page.text
    assert 'href="/mon-compte/habilitations/export?recherche=organisation"' in page.text
    exported = await browser.get("/mon-compte/habilitations/export")
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Structure", "Raison sociale", "Code service", "Libellé service",
                        "Profil"]
    assert len(table) == 3 and table[1][1] == "'=HYPERLINK(\"x\")"


# -- Approbations -----------------------------------------------------------------------------
async def test_the_inbox_filters_and_exports_with_the_same_criteria(browser):
    await as_role(browser, "gestionnaire principal")
    browser.services.on("GET", "/v1/me/approbations", lambda call: httpx.Response(
        200, json={"approbations": [ROW], "structures": ROLES["gestionnaire principal"],
                   "enAttente": 1}) if call.query.get("format") != "csv" else
        httpx.Response(200, content="\ufeffÉtat\r\n".encode(),
                                     headers={"content-type": "text/csv"}))
    page = await browser.get(f"/approbations?etat=&structure={SID}&demandeur=paul")
    asked = browser.services.made("GET", "/v1/me/approbations")[-1].query
    assert asked == {"structure": SID, "demandeur": "paul"}
    assert 'href="/approbations/rat-1"' in page.text and "Paul Durand" in page.text
    default = await browser.get("/approbations")
    assert browser.services.made("GET", "/v1/me/approbations")[-1].query == {
        "etat": "EN_COURS_DE_VALIDATION"}
    assert "etat=EN_COURS_DE_VALIDATION" in default.text  # the export keeps the filter
    exported = await browser.get("/approbations/export?etat=VALIDEE&service=COMPTA")
    assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
    assert browser.services.made("GET", "/v1/me/approbations")[-1].query == {
        "etat": "VALIDEE", "service": "COMPTA", "format": "csv"}


async def test_approve_and_refuse_a_request_a_refusal_needs_its_reason(browser):
    await as_role(browser, "gestionnaire principal")
    s = browser.services
    s.on("POST", "/v1/rattachements/rat-1/approve", 200, {"id": "rat-1"})
    s.on("POST", "/v1/rattachements/rat-1/refuse", 200, {"id": "rat-1"})
    page = await browser.get("/approbations/rat-1")
    assert "Approuver" in page.text and "Motif du refus" in page.text
    no_reason = await browser.post("/approbations/rat-1/refuser", {"motif": ""})
    assert no_reason.status_code == 400 and 'id="erreur-motif"' in no_reason.text
    assert s.made("POST", "/v1/rattachements/rat-1/refuse") == []
    refused = await browser.post("/approbations/rat-1/refuser", {"motif": "Inconnu"})
    assert refused.headers["location"] == "/approbations?message=demande_refusee"
    assert s.made("POST", "/v1/rattachements/rat-1/refuse")[0].json() == {
        "commentaire": "Inconnu"}
    approved = await browser.post("/approbations/rat-1/approuver",
                                  {"commentaireApprobation": ""})
    assert approved.headers["location"] == "/approbations?message=demande_approuvee"
    assert s.made("POST", "/v1/rattachements/rat-1/approve")[0].json() == {}
    # the badge is asked again after the person's own decision
    calls = len(s.made("GET", "/v1/me/approbations"))
    await browser.get("/mon-compte/habilitations")
    assert len(s.made("GET", "/v1/me/approbations")) == calls + 1


# -- Utilisateurs ---------------------------------------------------------------------------
def test_habilitation_changes_add_change_remove_and_leave_the_rest():
    held = held_at_level([GRANT, {**GRANT, "grantId": "hab-2", "application": "ORGANISATION",
                                  "mode": "MODIFICATION"},
                          {**GRANT, "grantId": "hab-3", "codeService": "COMPTA"}], None)
    assert set(held) == {"FACTURES_RECUES", "ORGANISATION"}
    changes, errors = habilitation_changes(held, ["FACTURES_RECUES", "ORGANISATION",
                                                  "RACCORDEMENTS", "ENGAGEMENTS"], {
        "mode-FACTURES_RECUES": "MODIFICATION", "mode-ORGANISATION": "",
        "mode-RACCORDEMENTS": "CONSULTATION"})
    assert not errors
    assert changes == [Change("mode", "FACTURES_RECUES", "MODIFICATION", "hab-1", 3),
                       Change("remove", "ORGANISATION", grant_id="hab-2", version=3),
                       Change("add", "RACCORDEMENTS", "CONSULTATION")]
    same, _ = habilitation_changes(held, ["FACTURES_RECUES"],
                                   {"mode-FACTURES_RECUES": "CONSULTATION"})
    assert same == []
    _, bad = habilitation_changes(held, ["FACTURES_RECUES"], {"mode-FACTURES_RECUES": "ROOT"})
    assert "mode-FACTURES_RECUES" in bad.fields


async def test_a_users_habilitations_are_changed_application_by_application(browser):
    await as_role(browser, "gestionnaire principal")
    s = browser.services
    s.on("PATCH", "/v1/habilitations/hab-1", 200, {"grantId": "hab-1"})
    s.on("POST", f"/v1/structures/{SID}/habilitations", 201, {"grantId": "hab-9"})
    page = await browser.get(f"{MANAGED}/utilisateurs/u-2")
    assert "Habilitations de Paul Durand" in page.text
    assert '<option value="CONSULTATION" selected>' in page.text
    saved = await browser.post(f"{MANAGED}/utilisateurs/u-2", {
        "niveau": "", "mode-FACTURES_RECUES": "MODIFICATION", "mode-ORGANISATION": "",
        "mode-RACCORDEMENTS": "CONSULTATION"})
    assert saved.headers["location"] == (
        f"{MANAGED}/utilisateurs/u-2?message=habilitations_modifiees")
    assert s.made("PATCH", "/v1/habilitations/hab-1")[0].json() == {
        "mode": "MODIFICATION", "version": 3}
    assert s.made("POST", f"/v1/structures/{SID}/habilitations")[0].json() == {
        "userId": "u-2", "application": "RACCORDEMENTS", "mode": "CONSULTATION"}
    # at a service's level, the grants carry the service
    at_service = await browser.post(f"{MANAGED}/utilisateurs/u-2", {
        "niveau": "COMPTA", "mode-ORGANISATION": "MODIFICATION"})
    assert at_service.headers["location"].endswith("?niveau=COMPTA&message="
                                                   "habilitations_modifiees")
    assert s.made("POST", f"/v1/structures/{SID}/habilitations")[1].json() == {
        "userId": "u-2", "application": "ORGANISATION", "mode": "MODIFICATION",
        "codeService": "COMPTA"}
    s.refuse("PATCH", "/v1/habilitations/hab-1", 403, "SELF_ELEVATION_FORBIDDEN",
             "Vous ne pouvez pas augmenter vos propres habilitations.")
    refused = await browser.post(f"{MANAGED}/utilisateurs/u-2", {
        "niveau": "", "mode-FACTURES_RECUES": "MODIFICATION"})
    assert refused.status_code == 400 and "propres habilitations" in refused.text


async def test_invite_a_user_and_remove_all_their_habilitations(browser):
    await as_role(browser, "organisation modification")
    s = browser.services
    s.on("POST", f"/v1/structures/{SID}/rattachements", 202, {"message": "ok"})
    s.on("DELETE", f"/v1/structures/{SID}/users/u-2/habilitations", 200, {"revoked": 1})
    page = await browser.get(f"{MANAGED}/utilisateurs")
    assert "Gestionnaire principal : <strong>Jeanne Martin</strong>" in page.text
    assert f'href="{MANAGED}/gestionnaire-principal"' not in page.text  # not the GP
    invited = await browser.post(f"{MANAGED}/utilisateurs/invitation", {
        "email": "marc@ville.fr", "codeService": "COMPTA", "commentaire": ""})
    assert invited.headers["location"] == f"{MANAGED}/utilisateurs?message=utilisateur_invite"
    assert s.made("POST", f"/v1/structures/{SID}/rattachements")[0].json() == {
        "email": "marc@ville.fr", "codeService": "COMPTA"}
    confirm = await browser.get(f"{MANAGED}/utilisateurs/u-2/supprimer-tout")
    assert "Confirmer : supprimer tout" in confirm.text
    removed = await browser.post(f"{MANAGED}/utilisateurs/u-2/supprimer-tout")
    assert removed.headers["location"] == (
        f"{MANAGED}/utilisateurs/u-2?message=habilitations_supprimees")


async def test_the_gp_role_moves_only_after_typing_the_structure_identifiant(browser):
    await as_role(browser, "gestionnaire principal")
    s = browser.services
    s.on("POST", f"/v1/structures/{SID}/gestionnaire-principal/transfer", 200,
         {"userId": "u-2"})
    chooser = await browser.get(f"{MANAGED}/gestionnaire-principal")
    assert '<option value="u-2"' in chooser.text and '<option value="u-1"' not in chooser.text
    step = await browser.post(f"{MANAGED}/gestionnaire-principal/confirmation", {"userId": "u-2"})
    assert step.status_code == 200 and "Paul Durand" in step.text
    assert 'name="userId" value="u-2"' in step.text
    wrong = await browser.post(f"{MANAGED}/gestionnaire-principal",
                               {"userId": "u-2", "confirmation": "123"})
    assert wrong.status_code == 400 and 'id="erreur-confirmation"' in wrong.text
    assert s.made("POST", f"/v1/structures/{SID}/gestionnaire-principal/transfer") == []
    done = await browser.post(f"{MANAGED}/gestionnaire-principal",
                              {"userId": "u-2", "confirmation": f" {SID} "})
    assert done.headers["location"] == "/structures?message=gp_transfere"
    assert s.made("POST", f"/v1/structures/{SID}/gestionnaire-principal/transfer")[0].json() == {
        "toUserId": "u-2"}


# -- Raccordements ----------------------------------------------------------------------------
async def test_a_technical_account_secret_is_shown_once_then_renewed_and_revoked(browser):
    await as_role(browser, "gestionnaire principal")
    s = browser.services
    secret = "tas_un-secret-montre-une-fois"
    s.on("POST", f"/v1/structures/{SID}/technical-accounts", 201,
         {**ACCOUNT, "clientSecret": secret})
    s.on("POST", f"/v1/structures/{SID}/technical-accounts/ta-1/rotate", 200,
         {**ACCOUNT, "clientSecret": secret + "-2"})
    s.on("POST", f"/v1/structures/{SID}/technical-accounts/ta-1/revoke", 200,
         {**ACCOUNT, "status": "REVOKED"})
    listing = await browser.get(f"{MANAGED}/raccordements")
    assert "var/edi/ta-1/in/" in listing.text and "http://127.0.0.1:8004/v1/flows" in listing.text
    empty = await browser.post(f"{MANAGED}/raccordements", {"libelle": ""})
    assert empty.status_code == 400 and 'id="erreur-libelle"' in empty.text
    created = await browser.post(f"{MANAGED}/raccordements", {"libelle": "EDI"})
    assert created.status_code == 201 and secret in created.text
    assert "il ne sera plus jamais affiché" in created.text
    assert 'data-copie="secret"' in created.text and 'src="/static/copie.js"' in created.text
    assert created.headers["cache-control"] == "no-store"
    assert s.made("POST", f"/v1/structures/{SID}/technical-accounts")[0].json() == {
        "label": "EDI"}
    assert secret not in (await browser.get(f"{MANAGED}/raccordements")).text
    confirm = await browser.get(f"{MANAGED}/raccordements/ta-1/renouveler")
    assert "cesser de fonctionner" in confirm.text or "cesse de fonctionner" in confirm.text
    renewed = await browser.post(f"{MANAGED}/raccordements/ta-1/renouveler")
    assert secret + "-2" in renewed.text and "L'ancien secret ne fonctionne déjà plus" in (
        renewed.text)
    revoked = await browser.post(f"{MANAGED}/raccordements/ta-1/revoquer")
    assert revoked.headers["location"] == (
        f"{MANAGED}/raccordements?message=compte_technique_revoque")


async def test_the_copy_script_is_served_from_the_portal_itself(browser):
    script = await browser.client.get("/static/copie.js")
    assert script.status_code == 200 and "navigator.clipboard" in script.text


# -- what the person manages: kept briefly, never blocking a page ----------------------------
def test_management_is_kept_for_a_while_per_session_and_bounded():
    from chorale_portal.service_layer.management import Management, ManagementCache

    now = [0.0]
    cache = ManagementCache(clock=lambda: now[0], keep=20, size=2)
    managed = Management.of({"structures": ROLES["gestionnaire de service"], "enAttente": 3})
    assert managed.manages(SID) and not managed.manages_whole(SID) and managed.waiting == 3
    cache.put("s1", managed)
    now[0] = 19
    assert cache.get("s1") is managed
    now[0] = 21
    assert cache.get("s1") is None  # expired: asked again
    cache.put("s1", managed), cache.put("s2", managed), cache.put("s3", managed)
    assert cache.get("s1") is None and cache.get("s3") is managed  # the oldest forgotten
    cache.forget("s3")
    assert cache.get("s3") is None
    assert Management.of({"structures": [{"nope": 1}, "x"]}) == Management()


async def test_a_page_shows_without_the_gestionnaire_entries_when_identity_cannot_tell(browser):
    await as_role(browser, "gestionnaire principal")
    browser.services.on("GET", "/v1/me/approbations", 503, {"code": "DOWN", "message": "x"})
    browser.store.collections.clear()  # a new sign-in: nothing known yet
    await browser.sign_in()
    page = await browser.get("/mon-compte/habilitations")
    assert page.status_code == 200 and 'href="/approbations"' not in page.text


async def test_after_identity_failed_a_gestionnaire_page_asks_again_rather_than_refuse(browser):
    await as_role(browser, "gestionnaire principal")
    s = browser.services
    answer = s.routes[("GET", "/v1/me/approbations")]
    s.on("GET", "/v1/me/approbations", 503, {"code": "DOWN", "message": "x"})
    await browser.sign_in()
    assert (await browser.get("/")).status_code == 200
    failed = len(s.made("GET", "/v1/me/approbations"))
    await browser.get("/mon-compte/habilitations")  # the menu does not wait for it again
    assert len(s.made("GET", "/v1/me/approbations")) == failed
    s.routes[("GET", "/v1/me/approbations")] = answer  # identity is back
    page = await browser.get(f"{MANAGED}/utilisateurs")
    assert page.status_code == 200 and "Accès refusé" not in page.text
