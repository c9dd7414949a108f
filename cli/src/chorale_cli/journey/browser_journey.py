"""The webinar's journey done by people in a browser: every chapter by clicking and typing on
the portal, as `run_journey` does it over HTTP. Only the partner's machine stays a machine: it
drops its three flows in the EDI folder. Every screen is photographed (desktop and 390 px) and
checked with axe-core; the steps are narrated like the HTTP journey's.

Played by `chorale demo --browser [--headed]` against the running system and by
tests/e2e/test_webinar_browser.py against a test stack."""

from __future__ import annotations

import random
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.async_api import FilePayload

from chorale_cli.journey.browser import ARTIFACTS, PortalBrowser, browser_page
from chorale_cli.journey.chapter_supplier import partner_drops_three_flows
from chorale_cli.journey.data import RIB_PDF, reference_csv, siret, yesterday
from chorale_cli.journey.env import JourneyEnv
from chorale_cli.journey.http import eventually
from chorale_cli.journey.people import PASSWORD, Person, sign_in
from chorale_cli.journey.runner import JourneyError, JourneyReport, cast_of
from chorale_cli.journey.state import JourneyState

JOURNEY_ARTIFACTS = ARTIFACTS / "journey"
ACCOUNT_IN_EDI_PATH = re.compile(r"/([A-Za-z0-9_\-]+)/in/")


class Services:
    """The services of a running system as `PortalBrowser` wants them: their addresses by
    name and the folder the mail catcher fills."""

    def __init__(self, env: JourneyEnv, portal: str):
        self.urls = {"structures": env.structures, "identity": env.identity,
                     "habilitations": env.habilitations, "invoice-intake": env.intake,
                     "notifications": env.notifications, "invoices": env.invoices,
                     "portal": portal}
        self.mail_dir = env.mailbox.folder

    def url(self, service: str) -> str:
        return self.urls[service]

    def logs(self, service: str) -> str:  # the running system keeps its own (`make logs`)
        return ""


def upload(name: str, mime: str, content: bytes) -> FilePayload:
    """A file chosen in a file field, as a person picks it from their disk."""
    return {"name": name, "mimeType": mime, "buffer": content}


@dataclass
class Scene:
    """The one browser the people of the journey take turns at."""

    p: PortalBrowser
    s: JourneyState

    @property
    def timeout(self) -> float:
        return self.s.env.timeout

    async def look(self, name: str, step: str) -> None:
        await self.p.look(f"{len(self.p.screens) + 1:02d}-{name}")
        self.s.step(step)

    def menu(self, entry: str):
        return self.p.page.get_by_role("navigation", name="Menu principal").get_by_role(
            "link", name=entry)

    async def sign_out(self) -> None:
        await self.p.open("/")
        if await self.p.page.get_by_role("button", name="Se déconnecter").count():
            await self.p.submit("Se déconnecter")

    async def sign_in_as(self, person: Person) -> None:
        await self.sign_out()
        await self.p.open("/connexion")
        await self.p.fill({"email": person.email, "password": PASSWORD})
        await self.p.submit("Se connecter")
        assert f"Bonjour {person.name}" in await self.p.text(), await self.p.text()

    async def creates_an_account(self, person: Person) -> None:
        """Registration on the portal, confirmed from the link of the mail actually sent; the
        person then signs in. (Their token, from the API, is only for checking.)"""
        p = self.p
        await self.sign_out()
        await p.open("/")
        await p.page.get_by_role("link", name="Créer un compte").click()
        await p.fill({"email": person.email, "password": PASSWORD,
                      "passwordConfirmation": PASSWORD, "prenom": person.prenom,
                      "nom": person.nom})
        await p.submit("Créer mon compte")
        assert "ouvrez le lien" in await p.text(), await p.text()
        await p.page.goto(await p.link_in_mail(person.email, "/compte/verification"))
        await p.submit("Confirmer mon adresse")
        assert "Votre adresse est confirmée" in await p.text(), await p.text()
        await sign_in(self.s.api(self.s.env.identity), person)
        await p.fill({"email": person.email, "password": PASSWORD})
        await p.submit("Se connecter")
        assert f"Bonjour {person.name}" in await p.text()
        await self.look(f"compte-{person.email.split('.')[0]}",
                        f"{person.name} a créé son compte, l'a confirmé par le lien reçu "
                        "et s'est connecté")

    async def until_page_shows(self, path: str, wanted: str, what: str) -> None:
        """Open `path` until it shows `wanted`: what the page needs (rights, a structure)
        reaches the services through events."""
        async def shown() -> bool:
            await self.p.open(path)
            return wanted in await self.p.text()

        await eventually(shown, self.timeout, what, interval=1)


async def operator_imports_and_designates(c: Scene) -> None:
    p, s = c.p, c.s
    s.env.narrate("1. L'opérateur charge le référentiel et désigne le gestionnaire principal")
    await s.env.create_operator(s.operator.email, PASSWORD)
    await c.creates_an_account(s.gp)
    await c.sign_in_as(s.operator)
    await p.page.get_by_role("link", name="Back office").click()
    await p.page.get_by_role("link", name="Importer le référentiel").click()
    await p.page.set_input_files("#champ-fichier", files=[upload(
        "referentiel.csv", "text/csv", reference_csv(s.public_siret, s.public_name).encode())])
    await c.look("back-office-import", "l'opérateur choisit le fichier du référentiel")
    await p.submit("Importer")

    async def finished() -> str | None:  # the report page follows the import by itself
        await p.page.reload()
        shown = (await p.page.inner_text("#statut-import")).strip()
        return shown if shown in ("Terminé", "Échec") else None

    assert await eventually(finished, c.timeout, "the import's end", interval=1) == "Terminé"
    assert (await p.page.inner_text("#lignes-creees")).strip() == "1"
    await c.look("back-office-import-compte-rendu",
                 f"import terminé : 1 structure créée ({s.public_siret})")

    await p.page.get_by_role("link", name="Désigner un gestionnaire principal").click()

    async def designated() -> bool:
        # identity learns of the imported structure through events: until then, the form
        # shows its refusal.
        await p.fill({"structure": s.public_siret, "email": s.gp.email})
        await p.submit("Désigner")
        return "gestionnaire principal est désigné" in await p.text()

    await eventually(designated, c.timeout, "the designation of the GP", interval=1)
    await c.look("back-office-gp-designe",
                 f"{s.gp.name} désignée gestionnaire principale de {s.public_siret}")


async def gp_completes_the_structure(c: Scene) -> None:
    p, s = c.p, c.s
    s.env.narrate("2. La gestionnaire principale complète sa structure")
    await c.sign_in_as(s.gp)
    base = f"/structures/{s.public_siret}"
    await c.until_page_shows(base, "Modifier les informations", "the GP's structure page")
    await p.page.get_by_role("link", name="Modifier les informations").click()
    await p.fill({"telephone": "0325000000",
                  "adresseElectronique": "factures@chaourcois.example"})
    await p.submit("Enregistrer")
    assert "0325000000" in await p.text()
    await c.look("structure", "informations générales complétées (téléphone, adresse)")

    await p.page.get_by_role("link", name="Paramètres").click()
    await p.page.check("#champ-codeServiceDoitEtreRenseigne")
    await p.submit("Enregistrer les paramètres")
    assert "Les paramètres sont enregistrés" in await p.text()
    await c.look("structure-parametres", "paramètre « code service obligatoire » coché")

    await p.page.get_by_role("link", name="Services", exact=True).click()
    for code, label, end in (("COMPTA", "Comptabilité", ""),
                             ("ANCIEN", "Ancien service", yesterday().isoformat())):
        await p.page.get_by_role("link", name="Ajouter un service").click()
        await p.fill({"codeService": code, "libelle": label,
                      "dateDebutActivation": "2020-01-01", "dateFinActivation": end})
        await p.submit("Enregistrer")
        assert code in await p.text(), await p.text()
    await c.look("structure-services", "services COMPTA (actif) et ANCIEN (fin d'activation "
                 f"le {yesterday()}) ajoutés")

    await p.page.get_by_role("link", name="Coordonnées bancaires").click()
    await p.page.get_by_role("link", name="Ajouter des coordonnées bancaires").click()
    await p.fill({"nom": "Compte Trésor", "iban": "FR76 3000 6000 0112 3456 7890 189",
                  "bic": "AGRIFRPPXXX"})
    await p.page.set_input_files("#champ-fichier",
                                 files=[upload("RIB.pdf", "application/pdf", RIB_PDF)])
    await p.submit("Enregistrer")
    assert "Les coordonnées bancaires sont ajoutées" in await p.text()
    await c.look("structure-coordonnees-bancaires",
                 "coordonnées bancaires ajoutées avec le RIB en pièce jointe")


async def user_joins_a_service(c: Scene) -> None:
    p, s = c.p, c.s
    s.env.narrate("3. Un agent demande son rattachement au service COMPTA ; la GP l'approuve")
    await c.creates_an_account(s.user)
    await c.menu("Mes rattachements").click()
    await p.page.get_by_role("link", name="Demander un rattachement").click()
    await p.fill({"recherche": s.public_siret})
    await p.submit("Rechercher")
    await p.page.get_by_role("link", name=f"Choisir {s.public_name}").click()
    await p.page.select_option("#champ-codeService", "COMPTA")
    await p.fill({"commentaire": "Agent comptable du service"})
    await c.look("rattachement-demande", "l'agent choisit la structure, le service COMPTA "
                 "et dit pourquoi")
    await p.submit("Envoyer la demande")
    assert "Votre demande de rattachement est envoyée" in await p.text()

    await c.sign_in_as(s.gp)
    badge = p.page.get_by_role("navigation", name="Menu principal").locator(".pastille")
    assert (await badge.inner_text()).startswith("1")  # one request waits for her
    await c.menu("Approbations").click()
    await p.page.get_by_role("link", name=re.compile(
        f"{re.escape(s.user.name)}|{re.escape(s.user.email)}")).first.click()
    await c.look("approbation", "la GP ouvre la demande dans « Approbations »")
    await p.submit("Approuver")
    assert "La demande est approuvée" in await p.text()
    await c.look("approbation-approuvee", "la GP approuve le rattachement")

    habilitations = s.api(s.env.habilitations, s.gp)

    async def default_grants() -> bool:  # given on approval, through events
        rows = await habilitations.call(
            "GET", f"/v1/structures/{s.public_siret}/habilitations",
            params={"userId": s.user.user_id})
        return len(rows["habilitations"]) >= 12

    await eventually(default_grants, c.timeout, "the agent's default habilitations")
    await p.open(f"/structures/{s.public_siret}/utilisateurs")
    await p.page.get_by_role("link", name=f"Habilitations de {s.user.name}").click()
    await p.page.select_option("#champ-niveau", "COMPTA")
    await p.submit("Afficher ce niveau")
    await p.page.select_option("#champ-mode-FACTURES_RECUES", "MODIFICATION")
    await c.look("habilitations-agent", "la GP passe l'agent en modification sur "
                 "« Factures reçues » (service COMPTA)")
    await p.submit("Enregistrer les habilitations")
    assert "Les habilitations sont enregistrées" in await p.text()


async def supplier_deposits_flows(c: Scene) -> None:
    p, s = c.p, c.s
    s.env.narrate("4. Un fournisseur crée sa structure et un raccordement ; son partenaire "
                  "dépose trois flux")
    await c.creates_an_account(s.supplier)
    await p.page.get_by_role("link", name="Structures", exact=True).click()
    await p.page.get_by_role("link", name="Créer une structure privée").click()
    await p.fill({"identifiant": s.supplier_siret, "raisonSociale": s.supplier_name,
                  "adresse": "1 rue des Artisans", "codePostal": "10000", "ville": "Troyes"})
    await p.submit("Créer la structure")
    base = f"/structures/{s.supplier_siret}"
    # Its « Raccordements » tab waits for the creator's rights in habilitations (events).
    await c.until_page_shows(base, "Raccordements", "the supplier's Raccordements tab")
    await c.look("structure-fournisseur", f"structure privée {s.supplier_siret} créée ; "
                 "son créateur en est le gestionnaire principal")

    await p.page.get_by_role("link", name="Raccordements", exact=True).last.click()
    await p.fill({"libelle": "Connecteur EDI"})
    await p.submit("Créer le compte technique")
    assert "il ne sera plus jamais affiché" in await p.text()
    client_id = (await p.page.inner_text("#client-id")).strip()
    edi_folder = ACCOUNT_IN_EDI_PATH.search(await p.text())  # « …/<account id>/in/ »
    assert edi_folder, "the page names no EDI folder"
    account_id = edi_folder.group(1)
    s.technical_account_id = account_id
    s.technical_account = {"id": account_id, "clientId": client_id,
                           "clientSecret": (await p.page.inner_text("#secret")).strip()}
    await c.look("raccordement-secret", f"compte technique {client_id} créé : son secret "
                 "montré une seule fois, le dossier EDI indiqué")
    await p.page.get_by_role("link", name="J'ai copié le secret").click()

    await partner_drops_three_flows(s, account_id)  # the partner's machine, not a person

    await c.menu("Suivi des flux").click()
    text = await p.text()
    assert all(f.numero in text for f in s.flows), text
    await c.look("suivi-des-flux", "le fournisseur voit ses trois flux dans « Suivi des flux »")
    rejected = next(f for f in s.flows if f.label == "sans-code-service.xml")
    await p.page.get_by_role("link", name=rejected.numero).click()
    assert "Code service obligatoire" in await p.text()
    await c.look("compte-rendu-rejete", "il lit le compte rendu du flux rejeté, expliqué")


async def invoice_is_processed(c: Scene) -> None:
    p, s = c.p, c.s
    s.env.narrate("4 bis. L'agent traite la facture ; le fournisseur complète la facture "
                  "suspendue")
    number = f"FA-{s.env.run_id}-1"
    await c.sign_in_as(s.user)
    await c.until_page_shows("/factures-recues", number, "the invoice in Factures reçues")
    await c.look("factures-recues", "l'agent trouve la facture dans « Factures reçues »")
    await p.page.get_by_role("link", name=number).click()
    await p.page.wait_for_url("**/factures-recues/*")
    s.invoice_id = p.page.url.rsplit("/", 1)[1]
    await p.submit("Prendre en charge")
    assert "La facture est prise en charge" in await p.text()
    await p.page.get_by_text("Suspendre…").click()
    await p.page.select_option("#champ-motif-suspendre", "JUSTIF_ABS")
    await p.page.fill("#champ-commentaire-suspendre", "Merci de joindre le bon de livraison.")
    await c.look("facture-suspendre", "l'agent la prend en charge, choisit le motif de "
                 "suspension : justificatif absent")
    await p.submit("Suspendre")
    assert "La facture est suspendue" in await p.text()
    await c.look("facture-suspendue", "la facture est suspendue, son motif dans l'historique")

    await c.sign_in_as(s.supplier)
    await c.menu("Factures émises").click()
    await p.page.get_by_role("link", name=number).click()
    await p.fill({"commentaire": "Bon de livraison signé joint."})
    await p.page.set_input_files("#champ-pieces", files=[
        upload("bon-de-livraison.pdf", "application/pdf", RIB_PDF)])
    await c.look("facture-completer", "le fournisseur complète la facture avec le bon de "
                 "livraison")
    await p.submit("Compléter la facture")
    assert "La facture est complétée" in await p.text()

    await c.sign_in_as(s.user)
    await p.open(f"/factures-recues/{s.invoice_id}")
    for button, notice in (("Prendre en charge", "prise en charge"),
                           ("Constater le service fait", "service fait est constaté"),
                           ("Marquer mandatée", "marquée mandatée"),
                           ("Mettre en paiement", "mise en paiement")):
        await p.submit(button)
        assert notice in await p.text(), button
    await c.look("facture-mise-en-paiement", "l'agent constate le service fait, la marque "
                 "mandatée et la met en paiement")


async def gp_hands_over(c: Scene) -> None:
    p, s = c.p, c.s
    s.env.narrate("5. La gestionnaire principale transfère son rôle à l'agent")
    await c.sign_in_as(s.gp)
    await p.open(f"/structures/{s.public_siret}/utilisateurs")
    await p.page.get_by_role("link", name="Transférer le rôle de gestionnaire principal").click()
    await p.page.select_option("#champ-userId", s.user.user_id)
    await p.submit("Continuer")
    await p.fill({"confirmation": s.public_siret})
    await c.look("transfert-gp", "la GP confirme le transfert en recopiant l'identifiant")
    await p.submit("Transférer le rôle")
    assert "Le rôle de gestionnaire principal est transféré" in await p.text()
    await c.look("transfert-gp-fait", f"{s.user.name} est le nouveau gestionnaire principal")
    await c.sign_out()


CHAPTERS = (operator_imports_and_designates, gp_completes_the_structure,
            user_joins_a_service, supplier_deposits_flows, invoice_is_processed, gp_hands_over)


async def run_browser_journey(env: JourneyEnv, portal: str, *, headless: bool = True,
                              artifacts: Path = JOURNEY_ARTIFACTS) -> JourneyReport:
    """Play the journey on the portal at `portal`; the report's steps name each screen
    photographed in `artifacts`."""
    env.run_id = env.run_id or uuid.uuid4().hex[:8]
    rng = random.Random(env.run_id)
    cast = cast_of(env.run_id)
    started = time.monotonic()
    shutil.rmtree(artifacts, ignore_errors=True)  # this run's screens only
    async with httpx.AsyncClient(timeout=30) as client, browser_page(headless) as page:
        state = JourneyState(
            env=env, client=client, rng=rng, operator=cast["operator"], gp=cast["gp"],
            user=cast["user"], supplier=cast["supplier"], public_siret=siret(rng),
            supplier_siret=siret(rng))
        browser = PortalBrowser(page, portal, Services(env, portal), client,
                                artifacts=artifacts)
        scene = Scene(browser, state)
        for chapter in CHAPTERS:
            try:
                await chapter(scene)
            except Exception as exc:
                await browser.report_failure(())
                raise JourneyError(f"{chapter.__name__} (page {page.url}): {exc}") from exc
    emails = {p.email for p in cast.values()}
    mails = [m for m in env.mailbox.all() if any(e in m.to for e in emails)]
    return JourneyReport(state.steps, state.flows, mails, time.monotonic() - started,
                         {k: p.email for k, p in cast.items()}, state.public_siret,
                         state.supplier_siret, state.technical_account, state.invoice_id)
