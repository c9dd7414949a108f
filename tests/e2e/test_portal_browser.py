"""The portal in a real browser (Debian's chromium driven by Playwright) against the real stack:
every service as its own process, Kafka, the database and the mail catcher.

A person creates an account, confirms it from the mail actually sent, signs in, creates a
private structure, adds services with dates, bank details with their RIB document and an
attachment; as gestionnaire principal of a public structure an operator imported, sets its
parameters; changes their profile, signs out, resets a forgotten password from its mail. Each
step is checked on the page and in the service's API. Every screen is photographed (desktop
and 390 px wide, in var/test-artifacts/portal/) and checked with axe-core: no serious or
critical accessibility violation."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page

from chorale_cli.journey.browser import TIMEOUT, Authenticator, PortalBrowser, browser_page
from chorale_cli.journey.data import RIB_PDF, reference_csv, siret
from chorale_cli.journey.http import eventually
from chorale_cli.journey.operators import admin_command_creator
from chorale_cli.journey.stack import running_stack
from chorale_runtime.testing.plugin import Namespace

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PASSWORD = "Portail-Essai-2026!"
NEW_PASSWORD = "Nouveau-Secret-2027?"


class Portal(PortalBrowser):
    """Jeanne's browser, and the names this module's story uses."""

    def __init__(self, page: Page, base: str, stack, http: httpx.AsyncClient):
        super().__init__(page, base, stack, http)
        run = uuid.uuid4().hex[:8]
        self.email = f"jeanne.portail.{run}@ville.example"
        self.contact = f"compta.portail.{run}@ville.example"
        self.totp = Authenticator()
        self.operator = f"ops.portail.{run}@chorale.example"
        rng = random.Random(run)
        self.private_siret, self.public_siret = siret(rng), siret(rng)
        self.public_name = f"Commune de Portail {run}"
        self.token = ""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal(infra, tmp_path_factory, request):
    namespace = Namespace("p" + uuid.uuid4().hex[:10])
    folder = tmp_path_factory.mktemp("portal-stack")
    async with running_stack(infra, namespace, folder, portal=True) as stack:
        async with browser_page() as page, httpx.AsyncClient(timeout=30) as http:
            portal = Portal(page, stack.url("portal"), stack, http)
            failed = request.session.testsfailed
            try:
                yield portal
            finally:
                if request.session.testsfailed > failed:
                    await portal.report_failure(("portal", "structures", "identity"))


async def test_a_person_creates_an_account_confirms_it_from_the_mail_and_signs_in(portal):
    p = portal
    await p.open("/")
    await p.look("01-accueil-anonyme")
    await p.page.get_by_role("link", name="Créer un compte").click()
    await p.look("02-creer-un-compte")
    await p.fill({"email": p.email, "password": "court", "passwordConfirmation": "court",
                  "prenom": "Jeanne", "nom": "Martin"})
    await p.submit("Créer mon compte")
    # identity's refusal, in French, next to the password field; never JSON
    assert "Le mot de passe doit comporter" in await p.page.inner_text("#erreur-password")
    assert "PASSWORD_TOO_WEAK" not in await p.text() and "{" not in await p.text()
    await p.look("03-creer-un-compte-erreurs")
    await p.fill({"password": PASSWORD, "passwordConfirmation": PASSWORD,
                  "prenom": "Jeanne", "nom": "Martin"})
    await p.submit("Créer mon compte")
    assert "ouvrez le lien" in await p.text()
    await p.look("04-compte-cree")

    link = await p.link_in_mail(p.email, "/compte/verification")
    assert link.startswith(p.base + "/compte/verification?token=")
    await p.page.goto(link)
    await p.look("05-confirmer-mon-adresse")
    await p.submit("Confirmer mon adresse")
    assert "Votre adresse est confirmée" in await p.text()

    await p.fill({"email": p.email, "password": "pas le bon mot de passe"})
    await p.submit("Se connecter")
    assert "INVALID_CREDENTIALS" not in await p.text()
    assert await p.page.locator("#erreurs").count() == 1
    await p.fill({"email": p.email, "password": PASSWORD})
    await p.look("06-se-connecter")
    await p.submit("Se connecter")
    assert "Bonjour Jeanne Martin" in await p.text()
    await p.look("07-accueil")
    cookies = {c["name"]: c for c in await p.page.context.cookies()}
    session = cookies["chorale_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert session["value"] not in await p.page.content()

    p.token = await p.sign_in_api(p.email, PASSWORD)
    me = await p.api("identity", p.token).call("GET", "/v1/me")
    assert me["status"] == "ACTIVE" and me["prenom"] == "Jeanne"


async def test_the_person_creates_a_private_structure_with_services_and_bank_details(portal):
    p = portal
    await p.page.get_by_role("link", name="Structures", exact=True).click()
    await p.look("08-structures-vide")
    await p.page.get_by_role("link", name="Créer une structure privée").click()
    await p.fill({"identifiant": p.private_siret[:13] + str((int(p.private_siret[13]) + 1) % 10),
                  "raisonSociale": "Fournitures Martin"})
    await p.submit("Créer la structure")
    assert "SIRET invalide" in await p.page.inner_text("#erreur-identifiant")
    await p.look("09-creer-une-structure-erreur")
    await p.fill({"identifiant": p.private_siret, "raisonSociale": "Fournitures Martin",
                  "adresse": "3 rue des Lilas", "codePostal": "10110", "ville": "Bar-sur-Seine"})
    await p.submit("Créer la structure")
    # The creator's rights arrive through events: the page waits for them or lists the
    # structures; either way the structure's own page opens once they are there.
    structures = p.api("structures", p.token)
    created = await structures.until("GET", f"/v1/structures/{p.private_siret}", timeout=TIMEOUT)
    assert created["typeStructure"] == "PRIVEE" and created["raisonSociale"] == "Fournitures Martin"
    await p.open(f"/structures/{p.private_siret}")
    assert "Fournitures Martin" in await p.text()
    await p.look("10-structure")

    await p.page.get_by_role("link", name="Modifier les informations").click()
    await p.fill({"telephone": "0325000000", "adresseElectronique": "contact@martin.example"})
    await p.look("11-structure-modifier")
    await p.submit("Enregistrer")
    assert "0325000000" in await p.text()
    assert (await structures.call("GET", f"/v1/structures/{p.private_siret}"))[
        "telephone"] == "0325000000"

    # services, with activation dates
    await p.page.get_by_role("link", name="Services", exact=True).click()
    await p.page.get_by_role("link", name="Ajouter un service").click()
    await p.fill({"codeService": "compta", "libelle": "Comptabilité",
                  "dateDebutActivation": "2020-01-01"})
    await p.page.check("#champ-numeroEJDoitEtreRenseigne")
    await p.look("12-service-nouveau")
    await p.submit("Enregistrer")
    yesterday = date.today() - timedelta(days=1)
    await p.page.get_by_role("link", name="Ajouter un service").click()
    await p.fill({"codeService": "ANCIEN", "libelle": "Ancien service",
                  "dateDebutActivation": "2021-01-01",
                  "dateFinActivation": "2020-12-31"})
    await p.submit("Enregistrer")
    assert "date" in (await p.page.inner_text("#erreurs")).lower()
    await p.fill({"dateFinActivation": yesterday.isoformat()})
    await p.submit("Enregistrer")
    async with p.page.expect_navigation():
        await p.page.get_by_role("button", name="Désactiver").first.click()
    assert "Le service est désactivé" in await p.text()
    await p.look("13-services")
    listed = {s["codeService"]: s for s in (await structures.call(
        "GET", f"/v1/structures/{p.private_siret}/services"))["listeServices"]}
    assert listed["COMPTA"]["dateDebutActivation"] == "2020-01-01"
    assert listed["COMPTA"]["numeroEJDoitEtreRenseigne"] is True
    assert listed["ANCIEN"]["dateFinActivation"] == yesterday.isoformat()
    assert listed["ANCIEN"]["statut"] == "INACTIF" and listed["COMPTA"]["statut"] == "ACTIF"

    # bank details with the RIB document in the same form
    await p.page.get_by_role("link", name="Coordonnées bancaires").click()
    await p.page.get_by_role("link", name="Ajouter des coordonnées bancaires").click()
    await p.fill({"nom": "Compte principal", "iban": "FR76 3000 6000 0112 3456 7890 189",
                  "bic": "AGRIFRPPXXX"})
    await p.page.set_input_files("#champ-fichier", files=[{
        "name": "RIB.pdf", "mimeType": "application/pdf", "buffer": RIB_PDF}])
    await p.look("14-coordonnees-bancaires-nouvelles")
    await p.submit("Enregistrer")
    assert "Les coordonnées bancaires sont ajoutées" in await p.text()
    await p.look("15-coordonnees-bancaires")
    banks = (await structures.call(
        "GET", f"/v1/structures/{p.private_siret}/coordonnees-bancaires"))[
        "listeCoordonneesBancaires"]
    assert len(banks) == 1 and banks[0]["bic"] == "AGRIFRPPXXX" and banks[0]["idPieceJointe"]
    async with p.page.expect_download() as download_info:
        await p.page.get_by_role("link", name="RIB.pdf").click()
    download = await download_info.value
    assert Path(await download.path()).read_bytes() == RIB_PDF

    # attachments: upload, list, delete
    await p.page.get_by_role("link", name="Pièces jointes").click()
    await p.page.set_input_files("#champ-fichier", files=[{
        "name": "deliberation.pdf", "mimeType": "application/pdf", "buffer": RIB_PDF}])
    await p.submit("Déposer le document")
    assert "deliberation.pdf" in await p.text()
    await p.look("16-pieces-jointes")
    attachments = (await structures.call(
        "GET", f"/v1/structures/{p.private_siret}/pieces-jointes"))["listePiecesJointes"]
    assert sorted(a["nom"] for a in attachments) == ["RIB.pdf", "deliberation.pdf"]
    row = p.page.get_by_role("row").filter(has_text="deliberation.pdf")
    async with p.page.expect_navigation():
        await row.get_by_role("button", name="Supprimer").click()
    assert "La pièce jointe est supprimée" in await p.text()
    attachments = (await structures.call(
        "GET", f"/v1/structures/{p.private_siret}/pieces-jointes"))["listePiecesJointes"]
    assert [a["nom"] for a in attachments] == ["RIB.pdf"]


async def test_the_gestionnaire_of_a_public_structure_sets_its_parameters(portal):
    p = portal
    await admin_command_creator(p.stack.envs["identity"])(p.operator, PASSWORD)
    operator = await p.sign_in_api(p.operator, PASSWORD)
    ops_structures = p.api("structures", operator)
    job = await ops_structures.call(
        "POST", "/v1/structures/imports?nomFichier=referentiel.csv", expect=202,
        content=reference_csv(p.public_siret, p.public_name).encode(),
        headers={"Content-Type": "text/csv"})

    async def imported() -> bool:
        report = await ops_structures.call("GET", f"/v1/structures/imports/{job['idImport']}")
        return report["statut"] == "TERMINE"

    await eventually(imported, TIMEOUT, "the import")
    me = await p.api("identity", p.token).call("GET", "/v1/me")
    await p.api("identity", operator).until(
        "PUT", f"/v1/structures/{p.public_siret}/gestionnaire-principal",
        json={"userId": me["id"]}, timeout=TIMEOUT)
    structures = p.api("structures", p.token)
    await structures.until("GET", f"/v1/structures/{p.public_siret}", timeout=TIMEOUT)

    await p.open("/structures")
    assert p.public_name in await p.text() and "Fournitures Martin" in await p.text()
    await p.look("17-structures")
    await p.page.fill("#r-raison", "Portail")
    async with p.page.expect_navigation():
        await p.page.get_by_role("button", name="Rechercher").click()
    assert p.public_name in await p.text() and "Fournitures Martin" not in await p.text()
    await p.look("18-structures-recherche")

    await p.page.get_by_role("link", name=p.public_name).click()
    await p.page.get_by_role("link", name="Paramètres").click()
    await p.page.check("#champ-codeServiceDoitEtreRenseigne")
    await p.page.check("#champ-gestionNumeroEJOuCodeService")
    await p.submit("Enregistrer les paramètres")
    assert await p.page.locator("#erreurs").count() == 1  # incoherent: shown, not saved
    await p.look("19-parametres-erreur")
    await p.page.uncheck("#champ-gestionNumeroEJOuCodeService")
    await p.page.select_option("#champ-presenceMOA", "AVEC_MOA")
    await p.submit("Enregistrer les paramètres")
    assert "Les paramètres sont enregistrés" in await p.text()
    assert await p.page.is_checked("#champ-codeServiceDoitEtreRenseigne")
    await p.look("20-parametres")
    parameters = (await structures.call("GET", f"/v1/structures/{p.public_siret}"))["parametres"]
    assert parameters["codeServiceDoitEtreRenseigne"] is True
    assert parameters["gestionNumeroEJOuCodeService"] is False
    assert parameters["presenceMOA"] == "AVEC_MOA"

    await p.page.get_by_role("link", name="Services", exact=True).click()
    assert "FACTURES_PUBLIQUES" in await p.text() and "Réservé" in await p.text()
    await p.look("21-services-structure-publique")
    await p.page.get_by_role("link", name="Informations générales").click()
    await p.page.get_by_role("link", name="Demander la désactivation").click()
    await p.look("22-demande-desactivation")
    await p.open("/structures/demande-creation")
    await p.look("23-demande-creation-structure-publique")


async def test_mon_compte_profile_contact_address_second_factor_and_password(portal):
    p = portal
    await p.page.get_by_role("link", name="Mon compte").click()
    await p.fill({"telephone": "01 23 45 67 89"})
    await p.submit("Enregistrer mes informations")
    assert "Vos informations sont enregistrées" in await p.text()
    me = await p.api("identity", p.token).call("GET", "/v1/me")
    assert me["telephone"] == "01 23 45 67 89"

    # contact address: confirmed from the link mailed to the new address
    await p.fill({"contactEmail": p.contact, "currentPassword": "pas le bon"})
    await p.submit("Changer l'adresse de contact")
    assert await p.page.locator("#erreur-currentPassword").count() == 1
    await p.fill({"contactEmail": p.contact, "currentPassword": PASSWORD})
    await p.submit("Changer l'adresse de contact")
    assert "En attente de confirmation" in await p.text()
    await p.look("24-mon-compte")
    link = await p.link_in_mail(p.contact, "/compte/confirmation-contact")
    # the link is often opened later, signed out: through « Se connecter » and back to it
    await p.submit("Se déconnecter")
    await p.page.goto(link)
    assert urlparse(p.page.url).path == "/connexion"
    await p.fill({"email": p.email, "password": PASSWORD})
    await p.submit("Se connecter")
    back, sent = urlparse(p.page.url), urlparse(link)
    assert (back.path, back.query) == (sent.path, sent.query)
    await p.look("25-confirmer-adresse-contact")
    await p.submit("Confirmer cette adresse de contact")
    assert "Votre nouvelle adresse de contact est confirmée" in await p.text()
    me = await p.api("identity", p.token).call("GET", "/v1/me")
    assert me["contactEmail"] == p.contact and me["contactEmailEnAttente"] is None

    # second factor: QR code, first code, then every sensitive change asks for a code
    await p.open("/mon-compte/double-authentification")
    await p.look("26-double-authentification")
    await p.fill({"currentPassword": PASSWORD})
    await p.submit("Activer la double authentification")
    assert await p.page.locator(".qr svg").count() == 1
    await p.look("27-double-authentification-qr")
    secret = (await p.page.inner_text("code")).strip()
    await p.fill({"code": await p.totp.code(secret)})
    await p.submit("Confirmer")
    assert "La double authentification est activée" in await p.text()
    assert (await p.api("identity", p.token).call("GET", "/v1/me"))["totpEnabled"] is True

    await p.open("/mon-compte/mot-de-passe")
    await p.fill({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD,
                  "newPasswordConfirmation": NEW_PASSWORD, "totp": await p.totp.code(secret)})
    await p.look("28-changer-mot-de-passe")
    await p.submit("Changer le mot de passe")
    assert "Votre mot de passe est changé" in await p.text()

    await p.submit("Se déconnecter")
    assert "Vous êtes déconnecté" in await p.text()
    assert "chorale_session" not in {c["name"] for c in await p.page.context.cookies()}
    await p.open("/structures")
    assert urlparse(p.page.url).path == "/connexion"  # signed out: the page asks to sign in
    await p.fill({"email": p.email, "password": NEW_PASSWORD})
    await p.submit("Se connecter")
    await p.look("29-code-de-verification")
    await p.fill({"totp": await p.totp.code(secret)})
    await p.submit("Valider")
    assert urlparse(p.page.url).path == "/structures"  # back where the person was going

    await p.open("/mon-compte/double-authentification")
    await p.fill({"currentPassword": NEW_PASSWORD, "code": await p.totp.code(secret)})
    await p.submit("Désactiver")
    assert "La double authentification est désactivée" in await p.text()
    p.token = await p.sign_in_api(p.email, NEW_PASSWORD)
    assert (await p.api("identity", p.token).call("GET", "/v1/me"))["totpEnabled"] is False

    # a gestionnaire principal cannot leave: the page says why
    await p.open("/mon-compte/desactivation")
    await p.fill({"currentPassword": NEW_PASSWORD})
    await p.submit("Désactiver mon compte")
    assert "gestionnaire principal" in (await p.page.inner_text("#erreurs")).lower()
    await p.look("30-desactiver-mon-compte-refus")


async def test_invitations_from_their_mail_through_sign_in_accepted_and_declined(portal):
    p = portal
    operator = p.api("identity", await p.sign_in_api(p.operator, PASSWORD))
    for structure, service in ((p.public_siret, "FACTURES_PUBLIQUES"),
                               (p.private_siret, "COMPTA")):
        await operator.until("POST", f"/v1/structures/{structure}/rattachements", expect=202,
                             json={"email": p.email, "codeService": service,
                                   "commentaire": "Bienvenue dans l'équipe"}, timeout=TIMEOUT)
    # the mail (to the contact address) links to the portal's page; signed out, the page
    # asks to sign in first and comes back
    link = await p.link_in_mail(p.contact, "/mon-compte/invitations")
    assert link == p.base + "/mon-compte/invitations"
    await p.open("/")
    await p.submit("Se déconnecter")
    await p.page.goto(link)
    assert urlparse(p.page.url).path == "/connexion"
    await p.fill({"email": p.email, "password": NEW_PASSWORD})
    await p.submit("Se connecter")
    assert urlparse(p.page.url).path == "/mon-compte/invitations"
    assert p.public_name in await p.text() and "Fournitures Martin" in await p.text()
    await p.look("33-mes-invitations")

    await p.submit("Refuser l'invitation de Fournitures Martin")
    assert "Invitation refusée" in await p.text()
    await p.submit(f"Accepter l'invitation de {p.public_name}")
    assert "Invitation acceptée" in await p.text()
    assert "aucune invitation en attente" in await p.text()
    await p.look("34-mes-invitations-acceptee")
    me = p.api("identity", p.token)
    assert (await me.call("GET", "/v1/me/invitations"))["invitations"] == []
    rattachements = (await me.call("GET", "/v1/me/rattachements"))["rattachements"]
    assert any(r["identifiantStructure"] == p.public_siret
               and r["codeService"] == "FACTURES_PUBLIQUES" and r["status"] == "VALIDEE"
               for r in rattachements)
    assert not any(r["identifiantStructure"] == p.private_siret and r["codeService"] == "COMPTA"
                   for r in rattachements)


async def test_sign_out_and_a_forgotten_password(portal):
    p = portal
    await p.open("/")
    await p.submit("Se déconnecter")
    await p.page.get_by_role("link", name="Mot de passe oublié ?").click()
    await p.fill({"email": p.email})
    await p.look("31-mot-de-passe-oublie")
    await p.submit("Recevoir le lien")
    link = await p.link_in_mail(p.email, "/compte/reinitialisation-mot-de-passe")
    await p.page.goto(link)
    await p.fill({"newPassword": PASSWORD, "newPasswordConfirmation": PASSWORD})
    await p.look("32-nouveau-mot-de-passe")
    await p.submit("Enregistrer le mot de passe")
    assert "Votre mot de passe est changé" in await p.text()
    await p.fill({"email": p.email, "password": PASSWORD})
    await p.submit("Se connecter")
    assert "Bonjour Jeanne Martin" in await p.text()
    assert await p.sign_in_api(p.email, PASSWORD)
