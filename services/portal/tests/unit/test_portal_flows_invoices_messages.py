"""Suivi des flux, Factures reçues / émises and Mes messages: the calls each page makes to the
services (with the person's token), what it shows, and the authorization matrix — a person
never sees a menu entry, a button or a page they have no right to, and typing its address
gives « Accès refusé » (403) without asking the service."""

from __future__ import annotations

import json

import httpx
import pytest

from chorale_portal.domain import flow_codes
from chorale_portal.domain.rights import Rights

SUPPLIER = "44306184100047"
BUYER = "21100001500017"
OTHER = "99999999999999"
FLOW = "FLX20250114-01JHCX3Z7Q9K2M4N5P6R7S8T9V"
INVOICE = "FAC20250114-01JHCX3Z7Q9K2M4N5P6R7S8T9V"


def grant(application: str, mode: str, structure: str, service: str | None = None) -> dict:
    return {"application": application, "mode": mode, "structure": structure,
            "codeService": service, "raisonSociale": "Structure " + structure[-4:]}


def flow_row(number: str = FLOW, status: str = "IN_REJETE", codes=("SERVICE_CODE_REQUIRED",)):
    return {"numeroFluxDepot": number, "canal": "EDI", "technicalAccountId": "ta-1",
            "structurePartenaire": SUPPLIER, "nomFichier": "sans-code.xml",
            "syntaxeFlux": "IN_DP_E1_UBL_INVOICE", "statut": status,
            "dateDepot": "2025-01-14T09:30:12Z", "dateStatut": "2025-01-14T09:30:13Z",
            "tentative": 1, "codesErreur": list(codes)}


CR = {**flow_row(), "libelleStatut": "Rejeté", "syntaxeFluxDeclaree": None,
      "historique": [{"statut": "IN_RECU", "date": "2025-01-14T09:30:12Z"},
                     {"statut": "IN_REJETE", "date": "2025-01-14T09:30:13Z"}],
      "tailleOctets": 2048, "empreinteSha256": "ab" * 32, "listeErreurTechnique": [],
      "listeErreurDP": [
          {"code": "SERVICE_CODE_REQUIRED", "message": "Le code service est obligatoire pour "
           "le destinataire 21100001500017 et n'est pas renseigné.", "numeroFacture": "FA-2",
           "chemin": "/Invoice/cbc:BuyerReference"},
          {"code": "BUSINESS_RULE", "message": "La règle EN16931 BR-CO-15 n'est pas respectée "
           "(bloquante) : [BR-CO-15]-Invoice total amount with VAT…", "regle": "BR-CO-15",
           "gravite": "fatal", "numeroFacture": "FA-2"}],
      "listeAvertissementDP": [
          {"code": "BUSINESS_RULE", "message": "La règle BR-FR BR-FR-08_BT-23 …",
           "regle": "BR-FR-08_BT-23", "gravite": "warning"}],
      "factures": []}


def invoice(status: str = "MISE_A_DISPOSITION", actions=("prise-en-charge", "suspendre",
                                                         "a-recycler", "rejeter"),
            service: str | None = "COMPTA") -> dict:
    return {"invoiceId": INVOICE, "numeroFluxDepot": FLOW, "numeroFacture": "FA/2025 01",
            "dateFacture": "2025-01-13", "dateDepot": "2025-01-14", "destinataire": BUYER,
            "codeService": service, "fournisseur": SUPPLIER,
            "raisonSocialeFournisseur": "Fournitures Dupont", "montantHT": "100.00",
            "montantTVA": "20.00", "montantTTC": "1234.50", "devise": "EUR", "statut": status,
            "libelleStatut": status.title(), "dateStatut": "2025-01-14T10:00:00Z", "version": 3,
            "historique": [
                {"statut": "MISE_A_DISPOSITION", "libelleStatut": "Mise à disposition",
                 "date": "2025-01-14T09:31:00Z", "typeAuteur": "PLATEFORME"},
                {"statut": "SUSPENDUE", "libelleStatut": "Suspendue",
                 "date": "2025-01-14T09:40:00Z", "typeAuteur": "DESTINATAIRE",
                 "motif": "JUSTIF_ABS", "libelleMotif": "Justificatif absent ou insuffisant",
                 "commentaire": "Joindre le bon de livraison."},
                {"statut": "COMPLETEE", "libelleStatut": "Complétée",
                 "date": "2025-01-14T09:50:00Z", "typeAuteur": "FOURNISSEUR",
                 "piecesJointes": [{"pieceId": "p1", "nom": "../bon livraison.pdf",
                                    "typeContenu": "application/pdf", "tailleOctets": 10,
                                    "empreinteSha256": "00"}]}],
            "actionsPossibles": list(actions)}


CONTENT = {"invoiceId": INVOICE, "vendeur": {"nom": "Fournitures Dupont", "identifiant": SUPPLIER},
           "acheteur": {"nom": "Mairie", "identifiant": BUYER}, "devise": "EUR",
           "lignes": [{"designation": "Ramettes de papier", "quantite": "10", "unite": "C62",
                       "prixUnitaireHT": "10.00", "montantHT": "100.00", "categorieTva": "S",
                       "tauxTva": "20"}],
           "ventilationTva": [{"categorie": "S", "taux": "20", "baseHT": "100.00",
                               "montantTva": "20.00"}],
           "totaux": {"totalHT": "100.00", "totalTva": "20.00", "totalTTC": "120.00"}}
REFERENCE = {"statuts": [], "motifs": {
    "suspendre": [{"code": "JUSTIF_ABS", "libelle": "Justificatif absent ou insuffisant"}],
    "a-recycler": [{"code": "CODE_ROUTAGE_ERR", "libelle": "Code service erroné"}],
    "rejeter": [{"code": "DOUBLON", "libelle": "Facture en doublon"}]}}


async def as_person(browser, *grants: dict, roles: list[str] | None = None,
                    unread: int = 0):
    browser.services.on("GET", "/v1/me/habilitations", 200, {"habilitations": list(grants)})
    browser.services.on("GET", "/v1/me/messages/unread-count", 200, {"nonLus": unread})
    if roles:
        me = json.loads(browser.services.routes[("GET", "/v1/me")].content)
        browser.services.on("GET", "/v1/me", 200, {**me, "roles": roles})
    browser.services.on("GET", "/v1/flows", 200, {"page": 1, "taillePage": 20, "total": 1,
                                                   "flux": [flow_row()]})
    browser.services.on("GET", f"/v1/flows/{FLOW}", 200, CR)
    for side in ("recues", "emises"):
        browser.services.on("GET", f"/v1/factures-{side}", 200, {
            "page": 1, "taillePage": 20, "total": 1, "factures": [invoice()]})
        browser.services.on("GET", f"/v1/factures-{side}/{INVOICE}", 200, invoice())
    browser.services.on("GET", f"/v1/factures/{INVOICE}/contenu", 200, CONTENT)
    browser.services.on("GET", "/v1/factures/statuts", 200, REFERENCE)
    await browser.sign_in()
    return browser


# -- Suivi des flux -------------------------------------------------------------------------
async def test_the_flow_list_asks_the_intake_for_the_persons_structure_with_the_filters(browser):
    await as_person(browser, grant("SUIVI_DES_FLUX", "CONSULTATION", SUPPLIER))
    page = await browser.get("/suivi-des-flux?statut=IN_REJETE&canal=EDI&depuis=2025-01-01"
                             "&jusqua=2025-01-31&compte=ta-1")
    assert page.status_code == 200
    assert 'href="/suivi-des-flux" aria-current="page"' in page.text
    asked = browser.services.made("GET", "/v1/flows")[-1]
    assert asked.headers["authorization"] == "Bearer at-1"
    assert asked.query == {"structurePartenaire": SUPPLIER, "statut": "IN_REJETE",
                           "canal": "EDI", "depuis": "2024-12-31T23:00:00+00:00",
                           "jusqua": "2025-01-31T23:00:00+00:00", "technicalAccountId": "ta-1",
                           "page": "1", "taillePage": "20"}
    assert FLOW in page.text and "Code service obligatoire" in page.text
    assert "data-actualiser" not in page.text  # nothing in progress: no refresh
    # and never the whole page reloading under the person's eyes (axe: meta-refresh)
    assert 'http-equiv="refresh"' not in page.text


async def test_unreadable_filters_are_said_and_not_sent(browser):
    await as_person(browser, grant("SUIVI_DES_FLUX", "CONSULTATION", SUPPLIER))
    page = await browser.get("/suivi-des-flux?statut=PAS_UN_STATUT&depuis=31-01-2025")
    assert 'id="erreur-statut"' in page.text and 'id="erreur-depuis"' in page.text
    assert browser.services.made("GET", "/v1/flows")[-1].query == {
        "structurePartenaire": SUPPLIER, "page": "1", "taillePage": "20"}


async def test_flows_in_progress_are_followed_by_a_fragment_that_stops_once_they_end(browser):
    await as_person(browser, grant("SUIVI_DES_FLUX", "CONSULTATION", SUPPLIER))
    browser.services.on("GET", "/v1/flows", 200, {"total": 1, "flux": [
        flow_row(status="IN_EN_COURS_TRAITEMENT", codes=())]})
    page = await browser.get("/suivi-des-flux?canal=API")
    fragment = f"/suivi-des-flux/lignes?structure={SUPPLIER}&amp;canal=API&amp;page=1"
    assert f'data-actualiser="{fragment}"' in page.text
    assert '<script src="/static/actualisation.js" defer></script>' in page.text
    assert "Actualiser" in page.text  # without JavaScript: a link
    assert f'class="actualiser-sans-js" href="/suivi-des-flux?structure={SUPPLIER}&amp;canal=API' \
        f'&amp;page=1"' in page.text
    assert 'http-equiv="refresh"' not in page.text  # the script or the link, not a reload
    browser.services.on("GET", "/v1/flows", 200, {"total": 1, "flux": [flow_row()]})
    part = await browser.get(fragment.replace("&amp;", "&"))
    assert part.text.lstrip().startswith('<section id="flux"') and "<html" not in part.text
    assert "data-actualiser" not in part.text and "Rejeté" in part.text


async def test_a_flows_cr_explains_each_error_and_business_rule_in_french(browser):
    await as_person(browser, grant("SUIVI_DES_FLUX", "CONSULTATION", SUPPLIER))
    page = await browser.get(f"/suivi-des-flux/{FLOW}")
    assert page.status_code == 200
    text = page.text
    assert "Code service obligatoire" in text and "Demandez-le à votre client" in text
    assert "règle de cohérence de la norme EN 16931" in text
    assert "Le total TTC (BT-112) doit égaler le total HT" in text
    assert "règle française de la facturation électronique" in text  # the warning's family
    assert "Avertissements" in text and "/Invoice/cbc:BuyerReference" in text
    assert "data-actualiser" not in text and 'http-equiv="refresh"' not in text


def test_every_rule_code_of_the_intake_is_explained():
    from chorale_intake.domain.errors import RuleCode

    for code in [*RuleCode, "INCIDENT_TECHNIQUE"]:
        assert flow_codes.explain(str(code)).title != "Erreur", code
    assert flow_codes.rule_family("BR-S-08").startswith("règle de TVA")
    assert flow_codes.rule_text("BR-CO-16_BT-115") is not None


# -- Factures reçues ------------------------------------------------------------------------
async def test_received_list_sends_the_filters_to_the_invoices_service(browser):
    await as_person(browser, grant("FACTURES_RECUES", "CONSULTATION", BUYER))
    page = await browser.get("/factures-recues?statut=SUSPENDUE&fournisseur=" + SUPPLIER +
                             "&numeroFacture=FA&dateDepotDebut=2025-01-01&montantMin=1+200,5"
                             "&montantMax=abc")
    assert page.status_code == 200
    assert browser.services.made("GET", "/v1/factures-recues")[-1].query == {
        "structure": BUYER, "statut": "SUSPENDUE", "fournisseur": SUPPLIER,
        "numeroFacture": "FA", "dateDepotDebut": "2025-01-01", "montantMin": "1200.5",
        "page": "1", "taillePage": "20"}
    assert 'id="erreur-montantMax"' in page.text
    assert "1\u202f234,50\u00a0€" in page.text and f'href="/factures-recues/{INVOICE}"' in page.text


async def test_an_invoice_shows_parties_lines_vat_totals_history_and_its_documents(browser):
    await as_person(browser, grant("FACTURES_RECUES", "CONSULTATION", BUYER))
    page = await browser.get(f"/factures-recues/{INVOICE}")
    assert page.status_code == 200
    for seen in ("Ramettes de papier", "Ventilation de la TVA", "Total TTC", "Mairie",
                 "Justificatif absent ou insuffisant", "Joindre le bon de livraison.",
                 f"/factures-recues/{INVOICE}/original",
                 f"/factures-recues/{INVOICE}/pieces-jointes/p1"):
        assert seen in page.text, seen
    # consultation only: no action offered
    assert "Prendre en charge" not in page.text and "Suspendre" not in page.text


async def test_an_agent_in_modification_acts_with_the_version_seen(browser):
    await as_person(browser, grant("FACTURES_RECUES", "MODIFICATION", BUYER, "COMPTA"))
    page = await browser.get(f"/factures-recues/{INVOICE}")
    assert "Prendre en charge" in page.text and "Justificatif absent" in page.text
    path = f"/v1/factures-recues/{INVOICE}"
    browser.services.on("POST", f"{path}/prise-en-charge", 200, invoice("PRISE_EN_CHARGE"))
    done = await browser.post(f"/factures-recues/{INVOICE}/prise-en-charge", {"version": "3"})
    assert done.status_code == 303
    assert done.headers["location"] == (f"/factures-recues/{INVOICE}"
                                        "?message=facture_prise_en_charge")
    sent = browser.services.made("POST", f"{path}/prise-en-charge")[-1]
    assert sent.headers["if-match"] == '"3"' and sent.json() == {}

    refused = await browser.post(f"/factures-recues/{INVOICE}/suspendre", {"version": "3"})
    assert refused.status_code == 400 and 'id="erreur-motif-suspendre"' in refused.text
    assert not browser.services.made("POST", f"{path}/suspendre")

    browser.services.on("POST", f"{path}/suspendre", 200, invoice("SUSPENDUE"))
    await browser.post(f"/factures-recues/{INVOICE}/suspendre", {
        "version": "3", "motif": "JUSTIF_ABS", "commentaire": "Bon de livraison ?"})
    assert browser.services.made("POST", f"{path}/suspendre")[-1].json() == {
        "motif": "JUSTIF_ABS", "commentaire": "Bon de livraison ?"}


async def test_two_agents_at_once_the_second_is_told_the_invoice_changed(browser):
    await as_person(browser, grant("FACTURES_RECUES", "MODIFICATION", BUYER))
    await browser.get(f"/factures-recues/{INVOICE}")
    browser.services.refuse("POST", f"/v1/factures-recues/{INVOICE}/prise-en-charge", 409,
                            "INVOICE_VERSION_CONFLICT", "Version périmée.",
                            {"versionAttendue": 2, "versionActuelle": 3})
    late = await browser.post(f"/factures-recues/{INVOICE}/prise-en-charge", {"version": "2"})
    assert late.status_code == 409 and "a changé depuis que vous l&#39;avez ouverte" in late.text


async def test_the_original_is_relayed_under_a_name_the_portal_makes(browser):
    await as_person(browser, grant("FACTURES_RECUES", "CONSULTATION", BUYER))
    browser.services.on("GET", f"/v1/invoices/{INVOICE}/original", lambda call: httpx.Response(
        200, content=b"<Invoice/>", headers={
            "content-type": "text/html", "content-disposition":
            'attachment; filename="../../evil.html"'}))
    download = await browser.get(f"/factures-recues/{INVOICE}/original")
    assert download.content == b"<Invoice/>"
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == \
        'attachment; filename="facture-FA_2025_01.bin"'
    assert download.headers["content-security-policy"].startswith("sandbox")
    original = browser.services.made("GET", f"/v1/invoices/{INVOICE}/original")[-1]
    assert original.service == "invoice-intake" and original.headers["authorization"]
    browser.services.on("GET", f"/v1/invoices/{INVOICE}/original", lambda call: httpx.Response(
        200, content=b"<Invoice/>", headers={"content-type": "application/xml"}))
    xml = await browser.get(f"/factures-recues/{INVOICE}/original")
    assert xml.headers["content-disposition"] == 'attachment; filename="facture-FA_2025_01.xml"'
    piece_path = f"/v1/factures/{INVOICE}/pieces-jointes/p1"
    browser.services.on("GET", piece_path, 200, {"x": 1})
    piece = await browser.get(f"/factures-recues/{INVOICE}/pieces-jointes/p1")
    assert piece.headers["content-disposition"] == 'attachment; filename="bon_livraison.pdf"'
    unknown = await browser.get(f"/factures-recues/{INVOICE}/pieces-jointes/autre")
    assert unknown.status_code == 404


# -- Factures émises ------------------------------------------------------------------------
async def test_the_supplier_completes_a_suspended_invoice_with_attachments(browser):
    await as_person(browser, grant("FACTURES_EMISES", "MODIFICATION", SUPPLIER))
    browser.services.on("GET", f"/v1/factures-emises/{INVOICE}", 200,
                        invoice("SUSPENDUE", actions=("completer",)))
    page = await browser.get(f"/factures-emises/{INVOICE}")
    assert "Compléter la facture" in page.text and 'enctype="multipart/form-data"' in page.text
    path = f"/v1/factures-emises/{INVOICE}/completer"
    browser.services.on("POST", path, 200, invoice("COMPLETEE", actions=()))
    done = await browser.client.post(
        f"/factures-emises/{INVOICE}/completer",
        data={"csrf": browser.csrf, "version": "3", "commentaire": "Bon joint."},
        files={"pieces": ("bon.pdf", b"%PDF-1.4 bon", "application/pdf")})
    assert done.status_code == 303, done.text
    sent = browser.services.made("POST", path)[-1]
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert b"Bon joint." in sent.body and b"%PDF-1.4 bon" in sent.body
    assert b'name="pieces"; filename="bon.pdf"' in sent.body and b'name="version"' in sent.body


async def test_completing_without_comment_nor_file_is_refused_by_the_form(browser):
    await as_person(browser, grant("FACTURES_EMISES", "MODIFICATION", SUPPLIER))
    browser.services.on("GET", f"/v1/factures-emises/{INVOICE}", 200,
                        invoice("SUSPENDUE", actions=("completer",)))
    await browser.get(f"/factures-emises/{INVOICE}")
    refused = await browser.post(f"/factures-emises/{INVOICE}/completer", {"version": "3"})
    assert refused.status_code == 400 and 'id="erreur-commentaire"' in refused.text
    assert not browser.services.made("POST", f"/v1/factures-emises/{INVOICE}/completer")


# -- Mes messages ---------------------------------------------------------------------------
MESSAGE = {"id": "m-1", "categorie": "FLUX_REJETE", "libelleCategorie": "Flux rejetés",
           "sujet": "Flux rejeté : FLX-1", "texte": "Bonjour,\nle flux est rejeté.", "lu": False,
           "dateCreation": "2026-11-26T15:02:13Z", "dateLecture": None}


async def test_messages_with_the_unread_badge_and_marking_one_read(browser):
    await as_person(browser, unread=1)
    browser.services.on("GET", "/v1/me/messages", 200, {
        "messages": [MESSAGE], "page": 1, "taille": 20, "total": 1, "nonLus": 1})
    browser.services.on("GET", "/v1/me/messages/m-1", 200, {**MESSAGE, "html": "<p>x</p>"})
    home = await browser.get("/")
    assert '<a class="pastille" href="/mes-messages">1 message non lu</a>' in home.text
    page = await browser.get("/mes-messages")
    assert "Flux rejeté : FLX-1" in page.text and "Marquer comme lu" in page.text
    one = await browser.get("/mes-messages/m-1")
    assert "le flux est rejeté." in one.text and "<p>x</p>" not in one.text
    browser.services.on("POST", "/v1/me/messages/m-1/read", 200, {**MESSAGE, "lu": True})
    browser.services.on("GET", "/v1/me/messages/unread-count", 200, {"nonLus": 0})
    done = await browser.post("/mes-messages/m-1/lu")
    assert done.headers["location"] == "/mes-messages?message=message_lu"
    assert browser.services.made("POST", "/v1/me/messages/m-1/read")
    after = await browser.get("/")
    assert 'class="pastille"' not in after.text  # the badge follows at once


async def test_preferences_put_email_choices_and_frequencies(browser):
    await as_person(browser)
    browser.services.on("GET", "/v1/me/preferences", 200, {
        "email": [{"categorie": "FLUX_REJETE", "libelle": "Flux rejetés", "actif": True,
                   "modifiable": True},
                  {"categorie": "SECURITE_COMPTE", "libelle": "Sécurité", "actif": True,
                   "modifiable": False}],
        "frequence": [{"categorie": "FLUX_REJETE", "libelle": "Flux rejetés",
                       "valeur": "GROUPE", "choix": [
                           {"valeur": "IMMEDIAT", "libelle": "Immédiat"},
                           {"valeur": "GROUPE", "libelle": "Groupé"},
                           {"valeur": "QUOTIDIEN", "libelle": "Quotidien"}]}]})
    page = await browser.get("/mes-messages/preferences")
    assert '<option value="QUOTIDIEN">Quotidien</option>' in page.text
    browser.services.on("PUT", "/v1/me/preferences", 200, {})
    saved = await browser.post("/mes-messages/preferences",
                               {"frequence-FLUX_REJETE": "QUOTIDIEN"})
    assert saved.status_code == 303
    assert browser.services.made("PUT", "/v1/me/preferences")[-1].json() == {
        "email": {"FLUX_REJETE": False}, "frequence": {"FLUX_REJETE": "QUOTIDIEN"}}


# -- the authorization matrix ---------------------------------------------------------------
PERSONAS = {
    "sans droit": [],
    "flux": [grant("SUIVI_DES_FLUX", "CONSULTATION", SUPPLIER)],
    "reçues consultation": [grant("FACTURES_RECUES", "CONSULTATION", BUYER)],
    "reçues modification d'un autre service": [
        grant("FACTURES_RECUES", "MODIFICATION", BUYER, "AUTRE")],
    "reçues modification": [grant("FACTURES_RECUES", "MODIFICATION", BUYER, "COMPTA")],
    "émises modification": [grant("FACTURES_EMISES", "MODIFICATION", SUPPLIER)],
    # the intake and « Factures émises » are a structure's: a service's grant opens neither
    "flux et émises d'un service": [grant("SUIVI_DES_FLUX", "MODIFICATION", SUPPLIER, "X"),
                                    grant("FACTURES_EMISES", "MODIFICATION", SUPPLIER, "X")],
}
# persona → (menu entries shown, pages that open (others: 403), buttons shown on the invoice)
EXPECTED = {
    "sans droit": (set(), set(), set()),
    "flux": ({"Suivi des flux"}, {"flux", "cr"}, set()),
    "reçues consultation": ({"Factures reçues"}, {"reçues", "reçue"}, set()),
    "reçues modification d'un autre service": ({"Factures reçues"}, {"reçues", "reçue"}, set()),
    "reçues modification": ({"Factures reçues"}, {"reçues", "reçue"},
                            {"Prendre en charge", "Suspendre", "Rejeter"}),
    "émises modification": ({"Factures émises"}, {"émises", "émise"}, set()),
    "flux et émises d'un service": (set(), set(), set()),
}
PAGES = {"flux": "/suivi-des-flux", "cr": f"/suivi-des-flux/{FLOW}",
         "reçues": "/factures-recues", "reçue": f"/factures-recues/{INVOICE}",
         "émises": "/factures-emises", "émise": f"/factures-emises/{INVOICE}",
         "autre structure (flux)": f"/suivi-des-flux?structure={OTHER}",
         "autre structure (reçues)": f"/factures-recues?structure={OTHER}"}
MENU = ("Suivi des flux", "Factures reçues", "Factures émises")


@pytest.mark.parametrize("persona", PERSONAS)
async def test_authorization_matrix(browser, persona):
    await as_person(browser, *PERSONAS[persona])
    menu, pages, buttons = EXPECTED[persona]
    home = await browser.get("/")
    nav = home.text.split('aria-label="Menu principal"')[1].split("</nav>")[0]
    assert {m for m in MENU if f">{m}</a>" in nav} == menu
    assert ">Mes messages</a>" in nav  # everyone has an inbox
    asked_before = len(browser.services.calls)
    for name, path in PAGES.items():
        page = await browser.get(path)
        if name in pages:
            assert page.status_code == 200, (name, page.text[:300])
        else:
            assert page.status_code == 403, name
            assert "Accès refusé" in page.text, name
    refused_pages = [c for c in browser.services.calls[asked_before:]
                     if c.service in ("invoice-intake", "invoices")
                     and c.path in ("/v1/flows", "/v1/factures-recues", "/v1/factures-emises")
                     and c.query.get("structure", c.query.get("structurePartenaire")) == OTHER]
    assert refused_pages == []  # a refused page asks nothing of the services
    if "reçue" in pages:
        page = await browser.get(f"/factures-recues/{INVOICE}")
        shown = {b for b in ("Prendre en charge", "Suspendre", "Rejeter", "À recycler")
                 if f">{b}</button>" in page.text or f"<summary>{b}…" in page.text}
        assert shown == buttons | ({"À recycler"} if buttons else set())
        if not buttons:  # and the action typed by hand is refused before any call
            acted = await browser.post(f"/factures-recues/{INVOICE}/prise-en-charge",
                                       {"version": "3"})
            assert acted.status_code == 403 and "Accès refusé" in acted.text
            assert not browser.services.made(
                "POST", f"/v1/factures-recues/{INVOICE}/prise-en-charge")
    if persona == "reçues consultation":
        # a supplier action typed by hand by someone without « Factures émises »
        refused = await browser.post(f"/factures-emises/{INVOICE}/completer", {"version": "3"})
        assert refused.status_code == 403


async def test_an_operator_follows_every_partners_flows(browser):
    await as_person(browser, roles=["operator"])
    page = await browser.get("/suivi-des-flux")
    assert page.status_code == 200
    assert browser.services.made("GET", "/v1/flows")[-1].query == {"page": "1",
                                                                   "taillePage": "20"}
    other = await browser.get(f"/suivi-des-flux?structure={OTHER}")
    assert other.status_code == 200


def test_rights_take_the_stronger_mode_and_keep_service_scopes_apart():
    rights = Rights.of([grant("FACTURES_RECUES", "CONSULTATION", BUYER),
                        grant("FACTURES_RECUES", "MODIFICATION", BUYER, "COMPTA"),
                        grant("FACTURES_RECUES", "MODIFICATION", SUPPLIER),
                        grant("FACTURES_RECUES", "CONSULTATION", SUPPLIER)])
    buyer = rights.on("FACTURES_RECUES", BUYER)
    assert buyer.modifies("COMPTA") and not buyer.modifies("AUTRE") and not buyer.modifies()
    assert rights.on("FACTURES_RECUES", SUPPLIER).modifies("N_IMPORTE")
    assert not rights.flows and rights.received and not rights.issued


async def test_a_habilitations_service_down_hides_the_entries_and_its_pages_say_so(browser):
    await as_person(browser, grant("SUIVI_DES_FLUX", "CONSULTATION", SUPPLIER))
    browser.services.on("GET", "/v1/me/habilitations", lambda call: httpx.Response(503))
    browser.services.on("GET", "/v1/me/messages/unread-count", 200, {"nonLus": 2})
    browser.store.collections.clear()  # a new session: nothing cached yet
    await browser.sign_in()
    home = await browser.get("/")
    assert home.status_code == 200 and ">Suivi des flux</a>" not in home.text
    assert "2 messages non lus" in home.text
    page = await browser.get("/suivi-des-flux")
    assert page.status_code == 503 and "momentanément indisponible" in page.text
    asked = len(browser.services.made("GET", "/v1/me/habilitations"))
    await browser.get("/structures")
    assert len(browser.services.made("GET", "/v1/me/habilitations")) == asked  # not at once


def test_a_messages_addresses_of_the_portal_become_links_to_this_site_only():
    from chorale_portal.domain.message_text import pieces

    lines = pieces("Reprenez-la : http://127.0.0.1:8080/factures-recues/FAC-1.\n"
                   "Commentaire : voir http://evil.example/factures-recues/x et "
                   "http://evil.example/connexion?suite=//evil")
    assert lines[0] == [("Reprenez-la : ", None), ("/factures-recues/FAC-1",
                                                    "/factures-recues/FAC-1"), (".", None)]
    # another host's address keeps only its path on this site; one to another page, nothing
    assert [link for _, link in lines[1] if link] == ["/factures-recues/x"]


async def test_the_supplier_readdresses_an_invoice_sent_back_a_recycler(browser):
    await as_person(browser, grant("FACTURES_EMISES", "MODIFICATION", SUPPLIER))
    browser.services.on("GET", f"/v1/factures-emises/{INVOICE}", 200,
                        invoice("A_RECYCLER", actions=("readresser",)))
    page = await browser.get(f"/factures-emises/{INVOICE}")
    assert "Réadresser la facture" in page.text
    path = f"/v1/factures-emises/{INVOICE}/readresser"
    browser.services.refuse("POST", path, 400, "SERVICE_UNKNOWN",
                            "Le code service « X » n'existe pas pour le destinataire.")
    refused = await browser.post(f"/factures-emises/{INVOICE}/readresser", {
        "version": "3", "codeService": "X", "commentaire": "Bon service"})
    assert refused.status_code == 400
    assert 'id="erreur-codeService">Le code service « X » n&#39;existe pas' in refused.text
    assert browser.services.made("POST", path)[-1].json() == {
        "codeService": "X", "commentaire": "Bon service", "version": "3"}
    browser.services.on("POST", path, 200, invoice("MISE_A_DISPOSITION", actions=()))
    done = await browser.post(f"/factures-emises/{INVOICE}/readresser",
                              {"version": "3", "codeService": "COMPTA"})
    assert done.headers["location"].endswith("?message=facture_readressee")
