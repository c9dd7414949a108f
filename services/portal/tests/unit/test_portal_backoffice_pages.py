"""The operators' back office without a browser (import with its progress and report, the
requests queue, failed mail deliveries, the first gestionnaire principal), and the
authorization matrix of this part's screens: who gets the page, who gets « Accès refusé »."""

from __future__ import annotations

import pytest

from .conftest import ME

SID = "21100001500017"
JOB = "0b7f0c1e-7d1c-4f1e-9d7a-3f7a2c1e9b10"
JOB_VIEW = {"idImport": JOB, "statut": "EN_COURS", "nomFichier": "referentiel.csv",
            "tailleFichier": 1000, "octetsTraites": 400, "progression": 0.4,
            "lignes": {"traitees": 4, "creees": 3, "modifiees": 1, "inchangees": 0,
                       "rejetees": 0},
            "rejets": [], "rejetsNonDetailles": 0, "erreur": None,
            "dateCreation": "2026-03-10T09:00:00Z", "dateDebut": None, "dateFin": None}
REQUEST = {"idDemande": "d-1", "type": "CREATION_STRUCTURE_PUBLIQUE", "identifiant": SID,
           "statut": "EN_ATTENTE", "demandeur": "u-9", "commentaire": "Nouvelle commune",
           "dateDemande": "2026-03-09T08:00:00Z",
           "structureProposee": {"raisonSociale": "Commune nouvelle"}}
DELIVERY = {"id": "dl-1", "userId": "u-2", "categorie": "RATTACHEMENT", "sujet": "Demande",
            "adresse": "agent@ville.fr", "statut": "FAILED", "tentatives": 5,
            "prochaineTentative": None, "derniereReponse": "550 boîte inconnue",
            "dateCreation": "2026-03-09T08:00:00Z", "dateMiseAJour": "2026-03-09T09:00:00Z",
            "evenementSource": {"id": "e", "type": "t"}, "journal": []}


async def operator(make_browser):
    browser = make_browser()
    browser.services.on("GET", "/v1/me", 200, {**ME, "roles": ["operator"]})
    await browser.sign_in()
    return browser


async def test_the_import_uploads_the_csv_and_its_page_follows_progress_then_report(
        make_browser):
    b = await operator(make_browser)
    b.services.on("POST", "/v1/structures/imports", 202, JOB_VIEW)
    b.services.on("GET", f"/v1/structures/imports/{JOB}", 200, JOB_VIEW)
    await b.get("/back-office/imports")
    csv = b"type;identifiant\nSTRUCTURE;21100001500017\n"
    sent = await b.post("/back-office/imports", files={
        "fichier": ("referentiel.csv", csv, "text/csv")})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/back-office/imports/{JOB}?message=import_lance"
    call = b.services.made("POST", "/v1/structures/imports")[0]
    assert call.body == csv and call.query == {"nomFichier": "referentiel.csv"}
    assert call.headers["content-type"] == "text/csv"
    running = await b.get(f"/back-office/imports/{JOB}")
    # the part that follows the import asks the vendored script for itself again; no
    # <meta refresh> (axe-core: a timed refresh is a critical accessibility violation)
    assert f'data-actualiser="/back-office/imports/{JOB}"' in running.text
    assert 'http-equiv="refresh"' not in running.text
    assert 'value="40"' in running.text and "En cours" in running.text
    b.services.on("GET", f"/v1/structures/imports/{JOB}", 200, {
        **JOB_VIEW, "statut": "TERMINE", "progression": 1.0, "dateFin": "2026-03-10T09:01:00Z",
        "lignes": {**JOB_VIEW["lignes"], "rejetees": 1},
        "rejets": [{"ligne": 7, "code": "SIRET_INVALID", "raison": "SIRET invalide",
                    "identifiant": "123"}]})
    done = await b.get(f"/back-office/imports/{JOB}")
    assert "data-actualiser" not in done.text and "Terminé" in done.text
    assert "SIRET invalide" in done.text and 'href="/back-office/gestionnaire-principal"' in \
        done.text


async def test_an_import_refused_by_structures_is_said_on_the_form(make_browser):
    b = await operator(make_browser)
    b.services.refuse("POST", "/v1/structures/imports", 413, "IMPORT_TOO_LARGE",
                      "Le fichier d'import dépasse la taille maximale.")
    await b.get("/back-office/imports")
    refused = await b.post("/back-office/imports", files={
        "fichier": ("r.csv", b"x", "text/csv")})
    assert refused.status_code == 413
    assert 'id="erreur-fichier">Le fichier d&#39;import dépasse' in refused.text


async def test_requests_are_listed_accepted_and_refused_with_a_motive(make_browser):
    b = await operator(make_browser)
    b.services.on("GET", "/v1/demandes", 200, {"listeDemandes": [REQUEST], "total": 1})
    b.services.on("POST", "/v1/demandes/d-1/acceptation", 200, {})
    b.services.on("POST", "/v1/demandes/d-1/refus", 200, {})
    page = await b.get("/back-office/demandes")
    assert "Création d&#39;une structure publique — Commune nouvelle" in page.text
    assert b.services.made("GET", "/v1/demandes")[0].query == {"statut": "EN_ATTENTE"}
    accepted = await b.post("/back-office/demandes/d-1/acceptation")
    assert accepted.headers["location"] == "/back-office/demandes?message=demande_acceptee"
    await b.get("/back-office/demandes")
    no_motive = await b.post("/back-office/demandes/d-1/refus", {"commentaire": " "})
    assert no_motive.status_code == 400 and "indiquez le motif" in no_motive.text
    assert b.services.made("POST", "/v1/demandes/d-1/refus") == []
    refused = await b.post("/back-office/demandes/d-1/refus", {"commentaire": "Doublon"})
    assert refused.status_code == 303
    assert b.services.made("POST", "/v1/demandes/d-1/refus")[0].json() == {
        "commentaireOperateur": "Doublon"}


async def test_failed_deliveries_are_listed_and_re_sent(make_browser):
    b = await operator(make_browser)
    b.services.on("GET", "/v1/operations/deliveries", 200,
                  {"envois": [DELIVERY], "page": 1, "taille": 50, "total": 1})
    b.services.on("POST", "/v1/operations/deliveries/dl-1/retry", 200, {})
    page = await b.get("/back-office/envois")
    assert "agent@ville.fr" in page.text and "550 boîte inconnue" in page.text
    assert b.services.made("GET", "/v1/operations/deliveries")[0].query == {
        "statut": "FAILED", "page": "1", "taille": "50"}
    resent = await b.post("/back-office/envois/dl-1/relance")
    assert resent.headers["location"] == "/back-office/envois?message=envoi_relance"
    assert b.services.made("POST", "/v1/operations/deliveries/dl-1/retry")[0].service == \
        "notifications"
    b.services.refuse("POST", "/v1/operations/deliveries/dl-1/retry", 409,
                      "DELIVERY_NOT_RETRYABLE", "Cet envoi n'est pas en échec.")
    await b.get("/back-office/envois")
    again = await b.post("/back-office/envois/dl-1/relance")
    assert again.status_code == 409 and "Cet envoi n&#39;est pas en échec." in again.text


async def test_the_first_gestionnaire_principal_is_designated_by_e_mail(make_browser):
    b = await operator(make_browser)
    b.services.on("GET", "/v1/users", 200, {"utilisateurs": [{"id": "u-42"}]})
    b.services.on("PUT", f"/v1/structures/{SID}/gestionnaire-principal", 200, {})
    await b.get(f"/back-office/gestionnaire-principal?structure={SID}")
    done = await b.post("/back-office/gestionnaire-principal",
                        {"structure": SID, "email": "gp@ville.fr"})
    assert done.headers["location"] == "/back-office/gestionnaire-principal?message=gp_designe"
    assert b.services.made("GET", "/v1/users")[0].query == {"email": "gp@ville.fr"}
    assert b.services.made("PUT", f"/v1/structures/{SID}/gestionnaire-principal")[0].json() \
        == {"userId": "u-42"}
    b.services.on("GET", "/v1/users", 200, {"utilisateurs": []})
    unknown = await b.post("/back-office/gestionnaire-principal",
                           {"structure": SID, "email": "personne@ville.fr"})
    assert unknown.status_code == 400 and 'id="erreur-email">Aucun compte' in unknown.text


# -- the authorization matrix ------------------------------------------------------------------
BACK_OFFICE_PAGES = ["/back-office", "/back-office/imports", f"/back-office/imports/{JOB}",
                     "/back-office/demandes", "/back-office/envois",
                     "/back-office/gestionnaire-principal"]
BACK_OFFICE_ACTIONS = ["/back-office/imports", "/back-office/demandes/d-1/acceptation",
                       "/back-office/demandes/d-1/refus", "/back-office/envois/dl-1/relance",
                       "/back-office/gestionnaire-principal"]
DEPOSIT_PAGES = ["/depot-facture", "/depot-facture/saisie"]
DEPOSIT_ACTIONS = ["/depot-facture/fichier", "/depot-facture/saisie"]
NO_GRANT: dict = {"habilitations": []}  # nothing in « Factures émises » modification


def _services(b) -> None:
    b.services.on("GET", f"/v1/structures/imports/{JOB}", 200, JOB_VIEW)
    b.services.on("GET", "/v1/demandes", 200, {"listeDemandes": [], "total": 0})
    b.services.on("GET", "/v1/operations/deliveries", 200, {"envois": [], "total": 0})


# What every signed-in page reads for its menu and badges: what the person manages, their
# habilitations, their unread messages.
MENU_READS = {"/v1/me/approbations", "/v1/me/habilitations", "/v1/me/messages/unread-count"}


def calls_beyond_the_menu(browser) -> list[str]:
    """The calls a page made, but for the menu's reads."""
    return [c.path for c in browser.services.calls if c.path not in MENU_READS]


@pytest.mark.parametrize("path", BACK_OFFICE_PAGES)
async def test_matrix_back_office_pages(make_browser, path):
    anonymous = make_browser()
    assert (await anonymous.get(path)).headers["location"].startswith("/connexion?suite=")
    user = make_browser()
    await user.sign_in()
    _services(user)
    refused = await user.get(path)
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert "réservé aux opérateurs" in refused.text
    assert calls_beyond_the_menu(user) == ["/v1/auth/login", "/v1/me"]
    op = await operator(make_browser)
    _services(op)
    assert (await op.get(path)).status_code == 200


@pytest.mark.parametrize("path", BACK_OFFICE_ACTIONS)
async def test_matrix_back_office_actions_are_refused_to_non_operators_before_any_call(
        make_browser, path):
    user = make_browser()
    await user.sign_in()
    await user.get("/")
    refused = await user.post(path, {"commentaire": "x", "structure": SID, "email": "a@b.fr"})
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert calls_beyond_the_menu(user) == ["/v1/auth/login", "/v1/me"]


@pytest.mark.parametrize("path", DEPOSIT_PAGES)
async def test_matrix_deposit_pages(make_browser, path):
    anonymous = make_browser()
    assert (await anonymous.get(path)).headers["location"].startswith("/connexion?suite=")
    without = make_browser()
    without.services.on("GET", "/v1/me/habilitations", 200, NO_GRANT)
    await without.sign_in()
    refused = await without.get(path)
    assert refused.status_code == 403 and "Factures émises" in refused.text
    op = await operator(make_browser)
    refused = await op.get(path)
    assert refused.status_code == 403 and "un opérateur n&#39;émet pas de factures" in refused.text
    supplier = make_browser()
    supplier.services.on("GET", "/v1/me/habilitations", 200, {"habilitations": [
        {"structure": SID, "raisonSociale": "Mairie", "codeService": None}]})
    await supplier.sign_in()
    assert (await supplier.get(path)).status_code == 200


@pytest.mark.parametrize("path", DEPOSIT_ACTIONS)
async def test_matrix_deposit_actions_are_refused_without_the_habilitation(make_browser, path):
    without = make_browser()
    without.services.on("GET", "/v1/me/habilitations", 200, NO_GRANT)
    await without.sign_in()
    await without.get("/")
    refused = await without.post(path, {"structure": SID, "action": "deposer"},
                                 files={"fichier": ("f.xml", b"<x/>", "application/xml")})
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert without.services.made("POST", "/v1/flows/portail") == []
