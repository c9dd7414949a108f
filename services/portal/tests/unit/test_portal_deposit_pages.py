"""« Déposer une facture » without a browser: the structures offered (the person's « Factures
émises » in modification), the file and the typed invoice sent to the intake's PORTAIL channel
with the person's token, the intake's refusals shown on the form, the flow's CR page."""

from __future__ import annotations

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.business_rules import BrFrMode

from .conftest import ME

SUPPLIER = "73282932000074"
BUYER = "20007104100046"
NUMERO = "FLX20260310-01JHCX3Z7Q9K2M4N5P6R7S8T9V"
GRANTS = {"habilitations": [
    {"structure": SUPPLIER, "raisonSociale": "Fournitures Martin", "codeService": None,
     "application": "FACTURES_EMISES", "mode": "MODIFICATION"},
    # a service-level grant does not let the person deposit for the structure
    {"structure": "44306184100047", "raisonSociale": "Autre", "codeService": "VENTES",
     "application": "FACTURES_EMISES", "mode": "MODIFICATION"}]}
RECIPIENT = {"identifiant": BUYER, "raisonSociale": "Commune de Chaource", "statut": "ACTIVE",
             "parametres": {"codeServiceDoitEtreRenseigne": True,
                            "numeroEJDoitEtreRenseigne": False,
                            "gestionNumeroEJOuCodeService": False},
             "services": [{"codeService": "COMPTA", "libelle": "Comptabilité",
                           "numeroEJDoitEtreRenseigne": False}]}
RECEIPT = {"numeroFluxDepot": NUMERO, "statut": "IN_EN_ATTENTE_TRAITEMENT"}


async def supplier(browser):
    browser.services.on("GET", "/v1/me/habilitations", 200, GRANTS)
    browser.services.on("POST", "/v1/flows/portail", 202, RECEIPT)
    await browser.sign_in()
    return browser


async def test_the_page_offers_the_structures_where_the_person_may_deposit(browser):
    await supplier(browser)
    page = await browser.get("/depot-facture")
    assert page.status_code == 200
    assert f'<option value="{SUPPLIER}" selected>Fournitures Martin ({SUPPLIER})' in page.text
    assert "44306184100047" not in page.text
    asked = next(c for c in browser.services.made("GET", "/v1/me/habilitations") if c.query)
    assert asked.query == {"application": "FACTURES_EMISES", "mode": "MODIFICATION"}
    assert asked.headers["authorization"] == "Bearer at-1"
    assert 'href="/depot-facture" aria-current="page"' in page.text


async def test_a_file_goes_to_the_intake_with_the_persons_token_and_leads_to_its_cr(browser):
    await supplier(browser)
    await browser.get("/depot-facture")
    sent = await browser.post("/depot-facture/fichier", {"structure": SUPPLIER}, files={
        "fichier": ("facture-1.xml", b"<Invoice/>", "application/xml")})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/depot-facture/flux/{NUMERO}?message=facture_deposee"
    call = browser.services.made("POST", "/v1/flows/portail")[0]
    assert call.service == "invoice-intake" and call.query == {"structurePartenaire": SUPPLIER}
    assert call.headers["authorization"] == "Bearer at-1"
    assert b'filename="facture-1.xml"' in call.body and b"<Invoice/>" in call.body


async def test_a_file_for_a_structure_not_offered_or_missing_is_refused_before_the_intake(
        browser):
    await supplier(browser)
    await browser.get("/depot-facture")
    other = await browser.post("/depot-facture/fichier", {"structure": "44306184100047"},
                               files={"fichier": ("f.xml", b"<x/>", "application/xml")})
    assert other.status_code == 400 and 'id="erreur-structure"' in other.text
    empty = await browser.post("/depot-facture/fichier", {"structure": SUPPLIER},
                               files={"fichier": ("f.xml", b"", "application/xml")})
    assert empty.status_code == 400 and "Le fichier est vide." in empty.text
    assert browser.services.made("POST", "/v1/flows/portail") == []


async def test_the_intakes_refusal_is_shown_in_french_on_the_form(browser):
    await supplier(browser)
    browser.services.refuse("POST", "/v1/flows/portail", 413, "FLOW_TOO_LARGE",
                            "Le flux dépasse 20971520 octets : il n'est pas enregistré.")
    await browser.get("/depot-facture")
    refused = await browser.post("/depot-facture/fichier", {"structure": SUPPLIER}, files={
        "fichier": ("f.xml", b"<x/>", "application/xml")})
    assert refused.status_code == 413
    assert 'id="erreur-fichier">Le flux dépasse 20971520 octets' in refused.text
    assert "FLOW_TOO_LARGE" not in refused.text


async def test_the_recipient_is_looked_up_and_its_services_offered(browser):
    await supplier(browser)
    browser.services.on("GET", f"/v1/flows/portail/destinataires/{BUYER}", 200, RECIPIENT)
    form = await browser.get(f"/depot-facture/saisie?structure={SUPPLIER}")
    assert form.status_code == 200 and 'name="ligne-3-libelle"' in form.text
    assert 'name="ligne-4-libelle"' not in form.text
    shown = await browser.post("/depot-facture/saisie", {
        "structure": SUPPLIER, "lignes": "3", "destinataire": BUYER, "action": "destinataire"})
    assert shown.status_code == 200 and "Commune de Chaource" in shown.text
    assert "le code service est obligatoire" in shown.text
    assert '<option value="COMPTA">COMPTA — Comptabilité</option>' in shown.text
    more = await browser.post("/depot-facture/saisie", {
        "structure": SUPPLIER, "lignes": "3", "destinataire": BUYER, "action": "ligne",
        "ligne-1-libelle": "Papier", "ligne-1-quantite": "2", "ligne-1-prix": "10",
        "ligne-1-tva": "20"})
    assert 'name="ligne-4-libelle"' in more.text and 'value="Papier"' in more.text
    assert "24,00\u00a0€" in more.text  # the totals of the complete lines
    unknown = await browser.post("/depot-facture/saisie", {
        "structure": SUPPLIER, "destinataire": "12345678901234", "action": "destinataire"})
    assert unknown.status_code == 400 and 'id="erreur-destinataire"' in unknown.text


async def test_a_typed_invoice_becomes_a_valid_cii_deposited_on_the_portal_channel(browser):
    await supplier(browser)
    browser.services.on("GET", f"/v1/flows/portail/destinataires/{BUYER}", 200, RECIPIENT)
    browser.services.on("GET", f"/v1/structures/{SUPPLIER}", 200, {
        "identifiant": SUPPLIER, "raisonSociale": "Fournitures Martin", "adresse": "3 rue",
        "codePostal": "10110", "ville": "Bar-sur-Seine", "pays": "FR"})
    await browser.get(f"/depot-facture/saisie?structure={SUPPLIER}")
    sent = await browser.post("/depot-facture/saisie", {
        "structure": SUPPLIER, "lignes": "3", "destinataire": BUYER, "codeService": "COMPTA",
        "numeroEngagement": "", "numero": "F-2026-7", "dateFacture": "2026-01-05",
        "dateEcheance": "2026-02-04", "action": "deposer",
        "ligne-1-libelle": "Papier", "ligne-1-quantite": "2", "ligne-1-prix": "10,50",
        "ligne-1-tva": "20", "ligne-2-libelle": "Livres", "ligne-2-quantite": "1",
        "ligne-2-prix": "30", "ligne-2-tva": "5.5"})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].startswith(f"/depot-facture/flux/{NUMERO}")
    call = browser.services.made("POST", "/v1/flows/portail")[0]
    assert call.query == {"structurePartenaire": SUPPLIER, "syntaxeFlux": "IN_DP_E1_CII_16B",
                          "nomFichier": "facture-F-2026-7.xml"}
    analysis = analyse(call.body, "IN_DP_E1_CII_16B", br_fr=BrFrMode.FATAL)
    assert analysis.accepted and not analysis.findings, (analysis.errors, analysis.findings)
    facts = analysis.facts
    assert (facts.supplier_identifier, facts.buyer_identifier, facts.service_code) == (
        SUPPLIER, BUYER, "COMPTA")
    assert str(facts.total_with_tax) == "56.85"  # 21.00 + 4.20 + 30.00 + 1.65


async def test_a_typed_invoice_with_errors_is_not_sent(browser):
    await supplier(browser)
    browser.services.on("GET", f"/v1/flows/portail/destinataires/{BUYER}", 200, RECIPIENT)
    await browser.get(f"/depot-facture/saisie?structure={SUPPLIER}")
    refused = await browser.post("/depot-facture/saisie", {
        "structure": SUPPLIER, "lignes": "3", "destinataire": BUYER, "numero": "",
        "dateFacture": "2026-01-05", "dateEcheance": "2026-02-04", "action": "deposer",
        "ligne-1-libelle": "Papier", "ligne-1-quantite": "-2", "ligne-1-prix": "10",
        "ligne-1-tva": "20"})
    assert refused.status_code == 400
    assert 'id="erreur-numero"' in refused.text and 'id="erreur-ligne-1-quantite"' in refused.text
    assert browser.services.made("POST", "/v1/flows/portail") == []


async def test_the_cr_page_shows_the_status_its_errors_and_refreshes_while_in_progress(browser):
    await supplier(browser)
    cr = {"numeroFluxDepot": NUMERO, "statut": "IN_EN_COURS_TRAITEMENT",
          "libelleStatut": "En cours de traitement", "canal": "PORTAIL",
          "nomFichier": "f.xml", "structurePartenaire": SUPPLIER,
          "dateDepot": "2026-03-10T09:30:12Z",
          "historique": [{"statut": "IN_RECU", "date": "2026-03-10T09:30:12Z"}],
          "listeErreurTechnique": [], "listeErreurDP": [], "factures": []}
    browser.services.on("GET", f"/v1/flows/{NUMERO}", 200, cr)
    running = await browser.get(f"/depot-facture/flux/{NUMERO}?message=facture_deposee")
    assert f'data-actualiser="/depot-facture/flux/{NUMERO}"' in running.text
    assert 'http-equiv="refresh"' not in running.text
    assert "Votre facture est déposée" in running.text and "Portail" in running.text
    browser.services.on("GET", f"/v1/flows/{NUMERO}", 200, {
        **cr, "statut": "IN_REJETE", "libelleStatut": "Rejeté", "listeErreurDP": [
            {"code": "SERVICE_CODE_REQUIRED", "message": "Le code service est obligatoire.",
             "numeroFacture": "F-1"}]})
    done = await browser.get(f"/depot-facture/flux/{NUMERO}")
    assert "data-actualiser" not in done.text
    assert "SERVICE_CODE_REQUIRED" in done.text and "Le code service est obligatoire." in done.text
    browser.services.refuse("GET", "/v1/flows/FLX-AUTRE", 403, "FORBIDDEN",
                            "Vous n'êtes pas habilité à effectuer cette action.")
    hidden = await browser.get("/depot-facture/flux/FLX-AUTRE")
    assert hidden.status_code == 403 and "Accès refusé" in hidden.text


async def test_the_menu_offers_the_deposit_to_users_and_the_back_office_to_operators(
        make_browser):
    user = await supplier(make_browser())
    home = await user.get("/")
    assert 'href="/depot-facture"' in home.text and 'href="/back-office"' not in home.text
    reader = make_browser()  # « Factures émises » in consultation only: nothing to deposit
    reader.services.on("GET", "/v1/me/habilitations", 200, {"habilitations": [
        {**GRANTS["habilitations"][0], "mode": "CONSULTATION"}]})
    await reader.sign_in()
    home = await reader.get("/")
    assert 'href="/factures-emises"' in home.text and 'href="/depot-facture"' not in home.text
    operator = make_browser()
    operator.services.on("GET", "/v1/me", 200, {**ME, "roles": ["operator"]})
    await operator.sign_in()
    home = await operator.get("/")
    assert 'href="/back-office"' in home.text and 'href="/depot-facture"' not in home.text
