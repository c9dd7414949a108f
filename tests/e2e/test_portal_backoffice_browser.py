"""The back office and « Déposer une facture » in a real browser (Debian's chromium driven by
Playwright) against the real stack: every service as its own process, Kafka, the database and
the mail catcher.

An operator imports the reference list of public structures from the back office, follows the
import to its report, designates the first gestionnaire principal of the structure it
created, and refuses a request for a public structure with its motive. A supplier's user
(gestionnaire principal of its private structure, hence « Factures émises » in modification)
deposits an invoice file, then fills in the invoice form; both become
flows of the channel PORTAIL, integrated by the intake, whose CRs the person reads. Every screen
is photographed (desktop and 390 px, var/test-artifacts/portal/back-office/) and checked with
axe-core."""

from __future__ import annotations

import random
import uuid
from datetime import date
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio

from chorale_cli.journey.browser import ARTIFACTS, TIMEOUT, PortalBrowser, browser_page
from chorale_cli.journey.data import reference_csv, siret
from chorale_cli.journey.http import eventually
from chorale_cli.journey.operators import admin_command_creator
from chorale_cli.journey.stack import running_stack
from chorale_runtime.testing.plugin import Namespace
from chorale_testkit.invoices import make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PASSWORD = "Portail-Essai-2026!"


class Story:
    def __init__(self) -> None:
        run = uuid.uuid4().hex[:8]
        rng = random.Random(run)
        self.operator = f"ops.bo.{run}@chorale.example"
        self.gp = f"gp.bo.{run}@commune.example"
        self.supplier = f"fournisseur.bo.{run}@martin.example"
        self.public_siret, self.private_siret = siret(rng), siret(rng)
        self.requested_siret = siret(rng)
        self.public_name = f"Commune de Back-office {run}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal(infra, tmp_path_factory, request):
    namespace = Namespace("b" + uuid.uuid4().hex[:10])
    folder = tmp_path_factory.mktemp("portal-backoffice-stack")
    async with running_stack(infra, namespace, folder, portal=True) as stack:
        async with browser_page() as page, httpx.AsyncClient(timeout=30) as http:
            portal = PortalBrowser(page, stack.url("portal"), stack, http,
                                   artifacts=ARTIFACTS / "back-office")
            portal.story = Story()  # type: ignore[attr-defined]
            failed = request.session.testsfailed
            try:
                yield portal
            finally:
                if request.session.testsfailed > failed:
                    await portal.report_failure(("portal", "structures", "identity",
                                                 "invoice-intake", "habilitations"))


async def sign_in(p: PortalBrowser, email: str) -> None:
    await p.open("/connexion")
    await p.fill({"email": email, "password": PASSWORD})
    await p.submit("Se connecter")
    assert "Se déconnecter" in await p.text()


async def register(p: PortalBrowser, email: str, prenom: str, nom: str) -> str:
    """An account created and confirmed through identity's API (the browser test of part 1
    does it on the pages); returns its access token."""
    identity = p.api("identity")
    await identity.call("POST", "/v1/users", expect=202, json={
        "email": email, "password": PASSWORD, "prenom": prenom, "nom": nom})
    link = await p.link_in_mail(email, "/compte/verification")
    token = parse_qs(urlparse(link).query)["token"][0]
    await identity.call("POST", "/v1/users/verify", json={"token": token})
    return await p.sign_in_api(email, PASSWORD)


async def status_on_page(p: PortalBrowser, selector: str, wanted: set[str]) -> str:
    """The page refreshes itself while the work runs; wait until it shows a final state."""
    async def shown() -> str | None:
        await p.page.reload()
        text = (await p.page.inner_text(selector)).strip()
        return text if text in wanted else None

    return await eventually(shown, TIMEOUT, f"{selector} in {wanted}", interval=1)


async def test_the_operator_imports_the_reference_list_and_designates_the_first_gp(portal):
    p, s = portal, portal.story
    await admin_command_creator(p.stack.envs["identity"])(s.operator, PASSWORD)
    gp_user = await register(p, s.gp, "Gaëlle", "Principale")
    await sign_in(p, s.operator)
    await p.page.get_by_role("link", name="Back office").click()
    await p.look("01-back-office")

    await p.page.get_by_role("link", name="Importer le référentiel").click()
    await p.page.set_input_files("#champ-fichier", files=[{
        "name": "referentiel.csv", "mimeType": "text/csv",
        "buffer": reference_csv(s.public_siret, s.public_name).encode()}])
    await p.look("02-import")
    await p.submit("Importer")
    assert "/back-office/imports/" in p.page.url
    assert await status_on_page(p, "#statut-import", {"Terminé", "Échec"}) == "Terminé"
    assert (await p.page.inner_text("#lignes-creees")).strip() == "1"
    await p.look("03-import-compte-rendu")

    await p.page.get_by_role("link", name="Désigner un gestionnaire principal").click()
    await p.fill({"structure": s.public_siret, "email": s.gp})
    await p.look("04-designer-gp")

    async def designated() -> bool:
        # The imported structure reaches identity through events: until then identity says
        # it does not know it, and the form shows that refusal.
        await p.fill({"structure": s.public_siret, "email": s.gp})
        await p.submit("Désigner")
        return "gestionnaire principal est désigné" in await p.text()

    await eventually(designated, TIMEOUT, "the designation of the first GP", interval=1)
    await p.look("05-gp-designe")
    operator = p.api("identity", await p.sign_in_api(s.operator, PASSWORD))
    gp = await operator.call("GET", f"/v1/structures/{s.public_siret}/gestionnaire-principal")
    assert gp["userId"] == (await p.api("identity", gp_user).call("GET", "/v1/me"))["id"]

    # the requests queue: a person asks for a public structure, the operator refuses it
    asked = await p.api("structures", gp_user).call("POST", "/v1/demandes", expect=201, json={
        "type": "CREATION_STRUCTURE_PUBLIQUE", "commentaire": "Syndicat intercommunal",
        "structure": {"identifiant": s.requested_siret, "typeIdentifiant": "SIRET",
                      "raisonSociale": "Syndicat des eaux du Chaourçois"}})
    await p.page.get_by_role("link", name="Demandes").click()
    assert "Syndicat des eaux du Chaourçois" in await p.text()
    await p.page.get_by_label("Motif du refus").fill("Structure déjà couverte par la commune.")
    await p.look("06-demandes")
    await p.submit("Refuser")
    assert "La demande est refusée" in await p.text()
    decided = await p.api("structures", gp_user).call(
        "GET", f"/v1/demandes/{asked['idDemande']}")
    assert decided["statut"] == "REFUSEE"
    assert decided["commentaireOperateur"] == "Structure déjà couverte par la commune."
    await p.page.get_by_role("link", name="Envois de courriels").click()
    await p.look("07-envois")
    await p.submit("Se déconnecter")


async def test_a_supplier_deposits_a_file_and_fills_in_an_invoice_and_sees_both_crs(portal):
    p, s = portal, portal.story
    token = await register(p, s.supplier, "Martin", "Fournisseur")
    structures = p.api("structures", token)
    await structures.call("POST", "/v1/structures", expect=201, json={
        "identifiant": s.private_siret, "typeIdentifiant": "SIRET",
        "raisonSociale": "Fournitures Martin", "adresse": "3 rue des Lilas",
        "codePostal": "10110", "ville": "Bar-sur-Seine", "pays": "FR"})
    # the GP's « Factures émises » (modification) reaches habilitations through events
    await p.api("habilitations", token).until(
        "GET", "/v1/me/habilitations", timeout=TIMEOUT,
        params={"application": "FACTURES_EMISES", "structure": s.private_siret})

    async def offered() -> bool:
        await p.open("/depot-facture")
        return s.private_siret in await p.text()

    await sign_in(p, s.supplier)
    assert "Back office" not in await p.text()
    await eventually(offered, TIMEOUT, "the supplier structure offered for deposit", interval=1)
    await p.look("08-deposer-une-facture")

    # 1. a file (UBL) from the browser
    ubl = make_invoice("IN_DP_E1_UBL_INVOICE", buyer_siret=s.public_siret,
                       supplier_siret=s.private_siret, number=f"FICHIER-{uuid.uuid4().hex[:6]}",
                       issue_date=date.today(), service_code=None, lines=2)
    await p.page.set_input_files("#champ-fichier", files=[{
        "name": "facture-fichier.xml", "mimeType": "application/xml", "buffer": ubl}])
    await p.submit("Déposer le fichier")
    assert "Votre facture est déposée" in await p.text()
    assert await status_on_page(p, "#statut-flux", {"Intégré", "Rejeté"}) == "Intégré", \
        await p.text()
    first = p.page.url
    assert "facture-fichier.xml" in await p.text() and "Portail" in await p.text()
    await p.look("09-compte-rendu-fichier")

    # 2. an invoice typed in the form, turned into CII by the portal
    await p.open("/depot-facture")
    await p.submit("Saisir une facture")
    await p.fill({"destinataire": s.public_siret})
    await p.submit("Afficher les services du destinataire")
    assert s.public_name in await p.text()
    await p.fill({"numero": f"SAISIE-{uuid.uuid4().hex[:6]}",
                  "ligne-1-libelle": "Ramettes de papier A4", "ligne-1-quantite": "10",
                  "ligne-1-prix": "4,35"})
    await p.page.select_option("#champ-ligne-2-tva", "5.5")
    await p.fill({"ligne-2-libelle": "Manuels", "ligne-2-quantite": "2",
                  "ligne-2-prix": "18"})
    await p.submit("Ajouter une ligne")
    assert await p.page.locator("#champ-ligne-4-libelle").count() == 1
    assert "90,18\u00a0€" in await p.text()  # 43.50 + 8.70 + 36.00 + 1.98, computed for the person
    await p.look("10-saisir-une-facture")
    await p.submit("Déposer la facture")
    assert "Votre facture est déposée" in await p.text()
    assert await status_on_page(p, "#statut-flux", {"Intégré", "Rejeté"}) == "Intégré", \
        await p.text()
    await p.look("11-compte-rendu-saisie")

    # both flows in the intake: channel PORTAIL, deposited by the person
    intake = p.api("invoice-intake", token)
    me = await p.api("identity", token).call("GET", "/v1/me")
    crs = [await intake.call("GET", f"/v1/flows/{urlparse(url).path.rsplit('/', 1)[1]}")
           for url in (first, p.page.url)]
    for cr in crs:
        assert (cr["canal"], cr["statut"], cr["deposant"]) == ("PORTAIL", "IN_INTEGRE", me["id"])
    assert crs[0]["nomFichier"] == "facture-fichier.xml"
    assert crs[1]["syntaxeFlux"] == "IN_DP_E1_CII_16B"
    assert crs[1]["factures"][0]["montantTTC"] == "90.18"
