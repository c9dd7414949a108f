"""Structures, services, bank details and attachments pages: the calls they make to the
structures service and how its refusals are shown."""

from __future__ import annotations

import httpx

from chorale_portal.entrypoints.pages_bank import MAX_ATTACHMENT_BYTES

SID = "21100001500017"
BASE = f"/v1/structures/{SID}"


async def signed_in(browser):
    await browser.sign_in()
    return browser


async def test_the_list_searches_with_the_criteria_given(browser):
    await signed_in(browser)
    browser.services.on("GET", "/v1/structures", 200, {
        "listeStructures": [{"identifiant": SID, "raisonSociale": "Mairie de Chaource",
                             "typeStructure": "PUBLIQUE", "statut": "ACTIVE"}],
        "parametresRetour": {"pageCourante": 1, "pagesTotales": 1, "total": 1}})
    page = await browser.get("/structures?raisonSociale=Chaource&ville=&page=1")
    assert "Mairie de Chaource" in page.text and f'href="/structures/{SID}"' in page.text
    assert browser.services.made("GET", "/v1/structures")[0].query == {
        "raisonSociale": "Chaource", "page": "1", "taille": "20", "tri": "raisonSociale"}


async def test_creating_a_private_structure_posts_it_and_shows_a_siret_refusal_by_field(browser):
    await signed_in(browser)
    browser.services.refuse("POST", "/v1/structures", 400, "SIRET_INVALID",
                            "Le numéro SIRET est invalide.")
    await browser.get("/structures/nouvelle")
    refused = await browser.post("/structures/nouvelle", {
        "typeIdentifiant": "SIRET", "identifiant": "12345678901234", "raisonSociale": "Martin"})
    assert refused.status_code == 400
    assert 'id="erreur-identifiant">Le numéro SIRET est invalide.' in refused.text
    browser.services.on("POST", "/v1/structures", 201, {"identifiant": SID})
    created = await browser.post("/structures/nouvelle", {
        "typeIdentifiant": "SIRET", "identifiant": SID, "raisonSociale": "Martin"})
    assert created.headers["location"] == f"/structures/{SID}?message=structure_creee"
    assert browser.services.made("POST", "/v1/structures")[-1].json() == {
        "identifiant": SID, "typeIdentifiant": "SIRET", "raisonSociale": "Martin", "pays": "FR",
        "nonDiffusibleInsee": False}


async def test_a_structure_page_links_to_its_own_sections(browser):
    await signed_in(browser)
    page = await browser.get(f"/structures/{SID}")
    for section in ("modifier", "parametres", "services", "coordonnees-bancaires",
                    "pieces-jointes", "demande-desactivation"):
        assert f'href="/structures/{SID}/{section}"' in page.text, section


async def test_a_structure_page_refused_by_the_service_says_so_in_french(browser):
    await signed_in(browser)
    browser.services.refuse("GET", "/v1/structures/99999999999999", 403, "FORBIDDEN",
                            "Vous n'êtes pas habilité à effectuer cette action.")
    page = await browser.get("/structures/99999999999999")
    assert page.status_code == 403 and "Accès refusé" in page.text
    assert "pas habilité à effectuer cette action" in page.text and '"code"' not in page.text


async def test_parameters_are_put_and_incoherence_is_shown(browser):
    await signed_in(browser)
    page = await browser.get(f"/structures/{SID}/parametres")
    for explained in ("Code service obligatoire", "Recevoir les factures par EDI",
                      "Maîtrise d&#39;ouvrage (MOA)"):
        assert explained in page.text
    browser.services.refuse("PUT", f"{BASE}/parametres", 400, "PARAMETERS_INCOHERENT",
                            "« EJ ou code service » exclut les deux obligations.")
    refused = await browser.post(f"/structures/{SID}/parametres", {
        "codeServiceDoitEtreRenseigne": "on", "gestionNumeroEJOuCodeService": "on",
        "presenceMOA": "SANS_MOA"})
    assert refused.status_code == 400 and "exclut les deux obligations" in refused.text
    browser.services.on("PUT", f"{BASE}/parametres", 200, {})
    saved = await browser.post(f"/structures/{SID}/parametres", {
        "codeServiceDoitEtreRenseigne": "on", "presenceMOA": "AVEC_MOA"})
    assert saved.status_code == 303
    assert browser.services.made("PUT", f"{BASE}/parametres")[-1].json() == {
        "codeServiceDoitEtreRenseigne": True, "numeroEJDoitEtreRenseigne": False,
        "gestionNumeroEJOuCodeService": False, "statutMiseEnPaiementNestPasRemonte": False,
        "presenceMOA": "AVEC_MOA"}


async def test_requests_for_a_public_structure_and_for_a_deactivation(browser):
    await signed_in(browser)
    browser.services.on("POST", "/v1/demandes", 201, {"idDemande": "d-1"})
    await browser.get("/structures/demande-creation")
    sent = await browser.post("/structures/demande-creation", {
        "typeIdentifiant": "SIRET", "identifiant": SID, "raisonSociale": "Commune",
        "numeroEJDoitEtreRenseigne": "on", "presenceMOA": "SANS_MOA", "commentaire": "Merci"})
    assert sent.status_code == 303
    body = browser.services.made("POST", "/v1/demandes")[-1].json()
    assert body["type"] == "CREATION_STRUCTURE_PUBLIQUE" and body["commentaire"] == "Merci"
    assert body["structure"]["parametres"]["numeroEJDoitEtreRenseigne"] is True
    await browser.get(f"/structures/{SID}/demande-desactivation")
    missing = await browser.post(f"/structures/{SID}/demande-desactivation", {})
    assert missing.status_code == 400 and 'id="erreur-commentaire"' in missing.text
    await browser.post(f"/structures/{SID}/demande-desactivation", {"commentaire": "Fusion"})
    assert browser.services.made("POST", "/v1/demandes")[-1].json() == {
        "type": "DESACTIVATION_STRUCTURE", "identifiant": SID, "commentaire": "Fusion"}


async def test_services_list_shows_dates_flags_and_the_reserved_service(browser):
    await signed_in(browser)
    browser.services.on("GET", f"{BASE}/services", 200, {"listeServices": [
        {"codeService": "COMPTA", "libelle": "Comptabilité", "statut": "ACTIF",
         "dateDebutActivation": "2020-01-01", "dateFinActivation": "2026-12-31",
         "numeroEJDoitEtreRenseigne": True},
        {"codeService": "FACTURES_PUBLIQUES", "libelle": "Factures publiques", "statut": "ACTIF",
         "dateDebutActivation": "2020-01-01", "numeroEJDoitEtreRenseigne": False}]})
    page = await browser.get(f"/structures/{SID}/services")
    assert "du 01/01/2020 au 31/12/2026" in page.text and "Réservé" in page.text
    assert "/services/COMPTA/desactiver" in page.text
    assert "/services/FACTURES_PUBLIQUES/" not in page.text  # no action on the reserved one


async def test_creating_modifying_and_deactivating_a_service(browser):
    await signed_in(browser)
    browser.services.on("POST", f"{BASE}/services", 201, {})
    browser.services.on("GET", f"{BASE}/services", 200, {"listeServices": [
        {"codeService": "COMPTA", "libelle": "Comptabilité", "statut": "ACTIF",
         "dateDebutActivation": "2020-01-01"}]})
    await browser.get(f"/structures/{SID}/services/nouveau")
    await browser.post(f"/structures/{SID}/services/nouveau", {
        "codeService": "compta", "libelle": "Comptabilité", "dateDebutActivation": "2020-01-01",
        "numeroEJDoitEtreRenseigne": "on"})
    assert browser.services.made("POST", f"{BASE}/services")[0].json() == {
        "codeService": "COMPTA", "libelle": "Comptabilité", "description": None,
        "dateDebutActivation": "2020-01-01", "dateFinActivation": None,
        "numeroEJDoitEtreRenseigne": True}
    browser.services.refuse("PATCH", f"{BASE}/services/COMPTA", 400, "DATES_INCOHERENT",
                            "La date de fin précède la date de début.")
    form = await browser.get(f"/structures/{SID}/services/COMPTA/modifier")
    assert 'value="Comptabilité"' in form.text
    refused = await browser.post(f"/structures/{SID}/services/COMPTA/modifier", {
        "libelle": "Comptabilité", "dateDebutActivation": "2020-01-01",
        "dateFinActivation": "2019-01-01"})
    assert 'id="erreur-dateFinActivation"' in refused.text
    browser.services.on("POST", f"{BASE}/services/COMPTA/desactivation", 200, {})
    done = await browser.post(f"/structures/{SID}/services/COMPTA/desactiver")
    assert done.headers["location"].endswith("message=service_desactive")


async def test_bank_details_upload_the_rib_then_create_the_details_with_it(browser):
    await signed_in(browser)
    browser.services.on("GET", f"{BASE}/coordonnees-bancaires", 200,
                        {"listeCoordonneesBancaires": []})
    browser.services.on("POST", f"{BASE}/pieces-jointes", 201, {"idPieceJointe": "pj-1"})
    browser.services.on("POST", f"{BASE}/coordonnees-bancaires", 201, {})
    await browser.get(f"/structures/{SID}/coordonnees-bancaires/nouvelles")
    sent = await browser.client.post(
        f"/structures/{SID}/coordonnees-bancaires/nouvelles",
        data={"csrf": browser.csrf, "nom": "Compte", "type": "IBAN", "iban": "FR76",
              "bic": "AGRIFRPP"},
        files={"fichier": ("RIB.pdf", b"%PDF-1.4 rib", "application/pdf")})
    assert sent.status_code == 303
    upload = browser.services.made("POST", f"{BASE}/pieces-jointes")[0]
    assert b'filename="RIB.pdf"' in upload.body and b"%PDF-1.4 rib" in upload.body
    assert browser.services.made("POST", f"{BASE}/coordonnees-bancaires")[0].json() == {
        "nom": "Compte", "type": "IBAN", "iban": "FR76", "bic": "AGRIFRPP",
        "idPieceJointe": "pj-1"}


async def test_refused_bank_details_do_not_leave_their_document_behind(browser):
    await signed_in(browser)
    browser.services.on("POST", f"{BASE}/pieces-jointes", 201, {"idPieceJointe": "pj-2"})
    browser.services.on("DELETE", f"{BASE}/pieces-jointes/pj-2", 204)
    browser.services.refuse("POST", f"{BASE}/coordonnees-bancaires", 400, "IBAN_INVALID",
                            "L'IBAN est invalide : clé de contrôle IBAN incorrecte.")
    await browser.get(f"/structures/{SID}/coordonnees-bancaires/nouvelles")
    refused = await browser.client.post(
        f"/structures/{SID}/coordonnees-bancaires/nouvelles",
        data={"csrf": browser.csrf, "nom": "Compte", "type": "IBAN", "iban": "FR00",
              "bic": "AGRIFRPP"},
        files={"fichier": ("RIB.pdf", b"%PDF", "application/pdf")})
    assert refused.status_code == 400
    assert 'id="erreur-iban">L&#39;IBAN est invalide' in refused.text
    assert len(browser.services.made("DELETE", f"{BASE}/pieces-jointes/pj-2")) == 1


async def test_a_file_over_4_mb_is_refused_with_a_clear_message_and_never_uploaded(browser):
    await signed_in(browser)
    browser.services.on("GET", f"{BASE}/pieces-jointes", 200, {"listePiecesJointes": []})
    page = await browser.get(f"/structures/{SID}/pieces-jointes")
    assert "Taille maximale : 4 Mo" in page.text
    refused = await browser.client.post(
        f"/structures/{SID}/pieces-jointes", data={"csrf": browser.csrf},
        files={"fichier": ("gros.pdf", b"0" * (MAX_ATTACHMENT_BYTES + 100_000),
                           "application/pdf")})
    assert refused.status_code == 413 and "dépasse la taille maximale de 4 Mo" in refused.text
    assert browser.services.made("POST", f"{BASE}/pieces-jointes") == []


async def test_a_download_is_streamed_through_the_portal_with_the_person_token(browser):
    await signed_in(browser)
    browser.services.on("GET", f"{BASE}/pieces-jointes/pj-1", lambda call: httpx.Response(
        200, content=b"%PDF-bytes", headers={
            "content-type": "application/pdf",
            "content-disposition": 'attachment; filename="RIB.pdf"'}))
    got = await browser.client.get(f"/structures/{SID}/pieces-jointes/pj-1")
    assert got.status_code == 200 and got.content == b"%PDF-bytes"
    assert got.headers["content-disposition"] == 'attachment; filename="RIB.pdf"'
    assert "sandbox" in got.headers["content-security-policy"]
    call = browser.services.made("GET", f"{BASE}/pieces-jointes/pj-1")[0]
    assert call.headers["authorization"] == "Bearer at-1"
    browser.services.refuse("GET", f"{BASE}/pieces-jointes/pj-9", 404,
                            "ATTACHMENT_NOT_FOUND", "Pièce jointe introuvable.")
    missing = await browser.client.get(f"/structures/{SID}/pieces-jointes/pj-9")
    assert missing.status_code == 404 and "Pièce jointe introuvable." in missing.text


async def test_deleting_an_attachment_in_use_says_why(browser):
    await signed_in(browser)
    browser.services.on("GET", f"{BASE}/pieces-jointes", 200, {"listePiecesJointes": []})
    browser.services.refuse("DELETE", f"{BASE}/pieces-jointes/pj-1", 409, "ATTACHMENT_IN_USE",
                            "Cette pièce jointe est le RIB de coordonnées bancaires actives.")
    await browser.get(f"/structures/{SID}/pieces-jointes")
    refused = await browser.post(f"/structures/{SID}/pieces-jointes/pj-1/supprimer")
    assert refused.status_code == 400 and "coordonnées bancaires actives" in refused.text


async def test_modifying_bank_details_with_a_new_rib_and_deactivating_them(browser):
    await signed_in(browser)
    bank = f"{BASE}/coordonnees-bancaires/cb-1"
    browser.services.on("GET", bank, 200, {
        "idCoordonneeBancaire": "cb-1", "nom": "Compte", "type": "IBAN", "iban": "FR76",
        "bic": "AGRIFRPP", "statut": "ACTIF",
        "affactureur": {"raisonSociale": "Factor SA", "pays": "FR",
                        "identifiant": "35600000000048", "typeIdentifiant": "SIRET"}})
    browser.services.on("POST", f"{BASE}/pieces-jointes", 201, {"idPieceJointe": "pj-9"})
    browser.services.on("PATCH", bank, 200, {})
    browser.services.on("POST", f"{bank}/desactivation", 200, {})
    form = await browser.get(f"/structures/{SID}/coordonnees-bancaires/cb-1/modifier")
    assert 'value="Factor SA"' in form.text and 'value="AGRIFRPP"' in form.text
    saved = await browser.client.post(
        f"/structures/{SID}/coordonnees-bancaires/cb-1/modifier",
        data={"csrf": browser.csrf, "nom": "Compte", "type": "IBAN", "iban": "FR76",
              "bic": "AGRIFRPP"},
        files={"fichier": ("nouveau-RIB.pdf", b"%PDF-2", "application/pdf")})
    assert saved.status_code == 303
    assert browser.services.made("PATCH", bank)[0].json() == {
        "nom": "Compte", "type": "IBAN", "iban": "FR76", "bic": "AGRIFRPP",
        "affactureur": None, "idPieceJointe": "pj-9"}
    done = await browser.post(f"/structures/{SID}/coordonnees-bancaires/cb-1/desactiver")
    assert done.headers["location"].endswith("message=coordonnees_desactivees")
    assert len(browser.services.made("POST", f"{bank}/desactivation")) == 1


async def test_activating_a_service_already_active_says_so_on_the_list(browser):
    await signed_in(browser)
    browser.services.on("GET", f"{BASE}/services", 200, {"listeServices": []})
    browser.services.refuse("POST", f"{BASE}/services/COMPTA/activation", 409,
                            "SERVICE_ALREADY_ACTIVE", "Le service est déjà actif.")
    await browser.get(f"/structures/{SID}/services")
    refused = await browser.post(f"/structures/{SID}/services/COMPTA/activer")
    assert refused.status_code == 400 and "Le service est déjà actif." in refused.text
