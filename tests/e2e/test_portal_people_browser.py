"""The people screens of the portal in a real browser against the real stack: a person asks to
be attached to a structure with a comment (Mes rattachements), its gestionnaire principal sees
the Approbations badge and approves it, changes one of the person's habilitations, creates a
technical account (secret shown once) and revokes it (Raccordements), then hands the GP role
over with its confirmation step; the new GP finds it in Mes habilitations. Every screen is
photographed (var/test-artifacts/portal/people/) and checked with axe-core; each step is checked
in the services' APIs too."""

from __future__ import annotations

import random
import uuid
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio

from chorale_cli.journey.browser import ARTIFACTS, TIMEOUT, PortalBrowser, browser_page
from chorale_cli.journey.data import siret
from chorale_cli.journey.http import eventually
from chorale_cli.journey.stack import running_stack
from chorale_runtime.testing.plugin import Namespace

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PASSWORD = "Portail-Essai-2026!"


class People(PortalBrowser):
    """One browser, used in turn by the GP (Jeanne) and the newcomer (Paul)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, artifacts=ARTIFACTS / "people", **kwargs)
        run = uuid.uuid4().hex[:8]
        self.gp_email, self.paul_email = (f"jeanne.gp.{run}@ville.example",
                                          f"paul.agent.{run}@ville.example")
        self.siret = siret(random.Random(run))
        self.name = f"Fournitures Personnes {run}"
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    async def account(self, email: str, first: str, last: str) -> None:
        """An account confirmed from its mail (through the API: part 1's test does it in the
        browser)."""
        await self.api("identity").call("POST", "/v1/users", expect=202, json={
            "email": email, "password": PASSWORD, "prenom": first, "nom": last})
        link = await self.link_in_mail(email, "/compte/verification")
        await self.api("identity").call("POST", "/v1/users/verify", json={
            "token": parse_qs(urlparse(link).query)["token"][0]})
        self.tokens[email] = await self.sign_in_api(email, PASSWORD)
        self.ids[email] = (await self.api("identity", self.tokens[email]).call(
            "GET", "/v1/me"))["id"]

    async def sign_in_as(self, email: str) -> None:
        await self.open("/connexion")
        if await self.page.get_by_role("button", name="Se déconnecter").count():
            await self.submit("Se déconnecter")
        await self.fill({"email": email, "password": PASSWORD})
        await self.submit("Se connecter")

    async def menu(self) -> str:
        return await self.page.inner_text("nav[aria-label='Menu principal']")

    def menu_link(self, name: str):
        return self.page.locator("nav[aria-label='Menu principal']").get_by_role("link",
                                                                               name=name)

    async def menu_has(self, entry: str) -> bool:
        await self.page.reload()
        return entry in await self.menu()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def people(infra, tmp_path_factory, request):
    namespace = Namespace("pp" + uuid.uuid4().hex[:9])
    folder = tmp_path_factory.mktemp("portal-people-stack")
    async with running_stack(infra, namespace, folder, portal=True) as stack:
        async with browser_page() as page, httpx.AsyncClient(timeout=30) as http:
            p = People(page, stack.url("portal"), stack, http)
            failed = request.session.testsfailed
            try:
                await p.account(p.gp_email, "Jeanne", "Chaource")
                await p.account(p.paul_email, "Paul", "Agent")
                gp = p.tokens[p.gp_email]
                await p.api("structures", gp).call("POST", "/v1/structures", expect=201, json={
                    "identifiant": p.siret, "raisonSociale": p.name,
                    "libelleStructure": "Fournitures de bureau"})
                # the creator's GP role reaches each service through events
                await p.api("structures", gp).until("GET", f"/v1/structures/{p.siret}",
                                                    timeout=TIMEOUT)
                await p.api("habilitations", gp).until(
                    "GET", f"/v1/structures/{p.siret}/habilitations", timeout=TIMEOUT)
                yield p
            finally:
                if request.session.testsfailed > failed:
                    await p.report_failure(("portal", "identity", "habilitations"))


async def test_a_person_asks_to_be_attached_with_a_comment(people):
    p = people
    await p.sign_in_as(p.paul_email)
    menu = await p.menu()
    assert "Mes rattachements" in menu and "Approbations" not in menu
    await p.menu_link("Mes rattachements").click()
    await p.look("01-mes-rattachements-vide")
    await p.page.get_by_role("link", name="Demander un rattachement").click()
    await p.fill({"recherche": "personnes " + p.name.rsplit(" ", 1)[1]})
    await p.submit("Rechercher")
    assert p.siret in await p.text()
    await p.look("02-rattachement-recherche")
    await p.page.get_by_role("link", name=f"Choisir {p.name}").click()
    await p.submit("Envoyer la demande")  # no comment: refused by the form
    assert "obligatoire" in await p.page.inner_text("#erreur-commentaire")
    await p.look("03-rattachement-demande-erreur")
    await p.fill({"commentaire": "Agent comptable, service des achats"})
    await p.submit("Envoyer la demande")
    assert "Votre demande de rattachement est envoyée" in await p.text()
    assert "En cours de validation" in await p.text()
    await p.look("04-mes-rattachements-demande")
    mine = (await p.api("identity", p.tokens[p.paul_email]).call(
        "GET", "/v1/me/rattachements"))["rattachements"]
    assert [(r["identifiantStructure"], r["status"], r["commentaire"]) for r in mine] == [
        (p.siret, "EN_COURS_DE_VALIDATION", "Agent comptable, service des achats")]


async def test_the_gp_sees_the_badge_and_approves_in_approbations(people):
    p = people
    await p.sign_in_as(p.gp_email)
    badge = p.page.locator("nav[aria-label='Menu principal'] .pastille")
    assert (await badge.inner_text()).startswith("1")
    await p.menu_link("Approbations").click()
    assert "Paul Agent" in await p.text()
    await p.look("05-approbations")
    await p.page.get_by_role("link", name="Demande de rattachement à la structure").click()
    await p.look("06-approbation")
    await p.submit("Approuver")
    assert "La demande est approuvée" in await p.text()
    assert await badge.count() == 0  # nothing waits any more
    mine = (await p.api("identity", p.tokens[p.paul_email]).call(
        "GET", "/v1/me/rattachements"))["rattachements"]
    assert mine[0]["status"] == "VALIDEE"


async def test_the_gp_changes_a_habilitation_of_the_new_user(people):
    p = people
    gp, paul = p.api("habilitations", p.tokens[p.gp_email]), p.ids[p.paul_email]
    path = f"/v1/structures/{p.siret}/habilitations"

    async def default_grants() -> bool:  # given on approval, through events
        rows = (await gp.call("GET", path, params={"userId": paul}))["habilitations"]
        return len(rows) == 12

    await eventually(default_grants, TIMEOUT, "Paul's default habilitations")
    await p.open(f"/structures/{p.siret}")
    await p.page.get_by_role("link", name="Utilisateurs").click()
    await p.look("07-utilisateurs")
    await p.page.get_by_role("link", name="Habilitations de Paul Agent").click()
    await p.page.select_option("#champ-mode-FACTURES_RECUES", "MODIFICATION")
    await p.look("08-habilitations-utilisateur")
    await p.submit("Enregistrer les habilitations")
    assert "Les habilitations sont enregistrées" in await p.text()
    rows = (await gp.call("GET", path, params={"userId": paul,
                                               "application": "FACTURES_RECUES"}))
    assert [r["mode"] for r in rows["habilitations"]] == ["MODIFICATION"]


async def test_a_technical_account_is_created_its_secret_shown_once_then_revoked(people):
    p = people
    await p.open(f"/structures/{p.siret}")
    await p.page.get_by_role("link", name="Raccordements", exact=True).last.click()
    await p.fill({"libelle": "Partenaire EDI"})
    await p.look("09-raccordements")
    await p.submit("Créer le compte technique")
    assert "il ne sera plus jamais affiché" in await p.text()
    secret = (await p.page.inner_text("#secret")).strip()
    client_id = (await p.page.inner_text("#client-id")).strip()
    assert await p.page.get_by_role("button", name="Copier le secret").is_visible()
    await p.look("10-raccordement-secret")
    identity = p.api("identity")
    await identity.call("POST", "/v1/auth/token", json={"clientId": client_id,
                                                        "clientSecret": secret})
    await p.page.get_by_role("link", name="J'ai copié le secret").click()
    assert secret not in await p.page.content()
    assert "/in/" in await p.text()  # the EDI folder the partner uses
    await p.page.get_by_role("link", name="Révoquer Partenaire EDI").click()
    await p.look("11-raccordement-revoquer")
    await p.submit("Confirmer : révoquer")
    assert "Le compte technique est révoqué" in await p.text()
    refused = await identity.call("POST", "/v1/auth/token", expect=401, json={
        "clientId": client_id, "clientSecret": secret})
    assert refused["code"] == "TECHNICAL_ACCOUNT_REVOKED"


async def test_the_gp_role_is_transferred_after_its_confirmation(people):
    p = people
    await p.open(f"/structures/{p.siret}/utilisateurs")
    await p.page.get_by_role("link", name="Transférer le rôle de gestionnaire principal").click()
    await p.page.select_option("#champ-userId", p.ids[p.paul_email])
    await p.look("12-gp-transfert")
    await p.submit("Continuer")
    await p.fill({"confirmation": "pas le bon"})
    await p.submit("Transférer le rôle")
    assert await p.page.locator("#erreur-confirmation").count() == 1
    await p.fill({"confirmation": p.siret})
    await p.look("13-gp-confirmation")
    await p.submit("Transférer le rôle")
    assert "Le rôle de gestionnaire principal est transféré" in await p.text()
    gp = await p.api("identity", p.tokens[p.gp_email]).call(
        "GET", f"/v1/structures/{p.siret}/gestionnaire-principal")
    assert gp["userId"] == p.ids[p.paul_email] and gp["origin"] == "TRANSFERT"

    # the new GP: « Organisation » in modification, and the menu of a gestionnaire
    await p.sign_in_as(p.paul_email)
    await p.menu_link("Mes habilitations").click()

    async def organisation_modification() -> bool:
        await p.page.reload()
        return "Organisation modification" in await p.text()

    await eventually(organisation_modification, TIMEOUT, "the new GP's habilitations")
    assert "Factures reçues modification" in await p.text()
    await p.look("14-mes-habilitations")
    await eventually(lambda: p.menu_has("Approbations"), TIMEOUT, "Approbations in the menu")
