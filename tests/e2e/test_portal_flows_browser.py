"""Suivi des flux, Factures reçues / émises and Mes messages in a real browser (Debian's
chromium driven by Playwright) against the real stack: every service as its own process,
Kafka, the database, the mail catcher.

The webinar's set-up is played through the APIs (journey chapters 1 to 4: the public
structure and its GP, an agent attached to the service COMPTA in « Factures reçues »
modification, a supplier whose partner drops three flows — one integrated, two rejected);
then, by clicking and typing: the supplier follows its flows in « Suivi des flux » and reads
a rejected flow's compte rendu, explained; the recipient's agent opens the invoice, downloads
the original, takes it in charge and suspends it with a motif; the supplier completes it with
an attachment; the agent takes it through to « mise en paiement »; the agent reads and marks
a message in « Mes messages » and sets a preference; each person typing the address of a
screen they have no right to gets « Accès refusé ». Each step is checked in the services'
APIs; every screen is photographed (desktop and 390 px, var/test-artifacts/portal/flux-
factures/) and checked with axe-core."""

from __future__ import annotations

import os
import random
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chorale_cli.journey.browser import ARTIFACTS, TIMEOUT, PortalBrowser, browser_page
from chorale_cli.journey.chapter_public import (
    gp_completes_the_structure,
    operator_imports_and_designates,
)
from chorale_cli.journey.chapter_supplier import supplier_deposits_flows
from chorale_cli.journey.chapter_user import user_joins_a_service
from chorale_cli.journey.data import RIB_PDF, siret
from chorale_cli.journey.http import eventually
from chorale_cli.journey.people import PASSWORD, Person
from chorale_cli.journey.stack import running_stack
from chorale_cli.journey.state import JourneyState
from chorale_runtime.testing.plugin import Namespace
from chorale_testkit.invoices import make_ubl_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@dataclass
class World:
    p: PortalBrowser
    s: JourneyState
    invoice_id: str = ""

    @property
    def number(self) -> str:
        return f"FA-{self.s.env.run_id}-1"

    async def sign_in_as(self, person: Person) -> None:
        await self.p.open("/")
        if await self.p.page.get_by_role("button", name="Se déconnecter").count():
            await self.p.submit("Se déconnecter")
        await self.p.open("/connexion")
        await self.p.fill({"email": person.email, "password": PASSWORD})
        await self.p.submit("Se connecter")
        assert f"Bonjour {person.name}" in await self.p.text()

    def menu(self):
        return self.p.page.get_by_role("navigation", name="Menu principal")

    async def invoice_status(self, person: Person) -> dict:
        side = "emises" if person is self.s.supplier else "recues"
        return await self.s.api(self.s.env.invoices, person).call(
            "GET", f"/v1/factures-{side}/{self.invoice_id}")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(infra, tmp_path_factory, request):
    run = uuid.uuid4().hex[:8]
    folder = tmp_path_factory.mktemp("portal-flows-stack")
    async with running_stack(infra, Namespace("pf" + run), folder, portal=True) as stack:
        narration: list[str] = []
        env = stack.journey_env(narration.append, TIMEOUT, run)
        domain = "portail.chorale.example"
        rng = random.Random(run)
        async with httpx.AsyncClient(timeout=30) as client, browser_page() as page:
            state = JourneyState(
                env=env, client=client, rng=rng,
                operator=Person(f"operateur.{run}@{domain}", "Olivia", "Opératrice"),
                gp=Person(f"gp.{run}@{domain}", "Gaëlle", "Principale"),
                user=Person(f"agent.{run}@{domain}", "Ulysse", "Comptable"),
                supplier=Person(f"fournisseur.{run}@{domain}", "Fabien", "Dupont"),
                public_siret=siret(rng), supplier_siret=siret(rng))
            portal = PortalBrowser(page, stack.url("portal"), stack, client,
                                   artifacts=ARTIFACTS / "flux-factures")
            failed = request.session.testsfailed
            try:
                for chapter in (operator_imports_and_designates, gp_completes_the_structure,
                                user_joins_a_service, supplier_deposits_flows):
                    await chapter(state)
                yield World(portal, state)
            finally:
                if request.session.testsfailed > failed:
                    print("\n".join(narration))
                    await portal.report_failure(("portal", "invoices", "invoice-intake",
                                                 "notifications"))


async def test_the_supplier_follows_its_flows_and_reads_a_rejected_flows_cr(world):
    w, p, s = world, world.p, world.s
    await w.sign_in_as(s.supplier)
    menu = w.menu()
    assert await menu.get_by_role("link", name="Suivi des flux").count() == 1
    assert await menu.get_by_role("link", name="Factures émises").count() == 1
    await menu.get_by_role("link", name="Suivi des flux").click()
    await p.page.wait_for_url("**/suivi-des-flux")
    text = await p.text()
    for flow in s.flows:
        assert flow.numero in text and flow.label in text
    assert "Intégré" in text and "Code service obligatoire" in text
    await p.look("01-suivi-des-flux")

    await p.page.select_option("#champ-statut", "IN_REJETE")
    await p.submit("Filtrer")
    text = await p.text()
    assert "valide.xml" not in text and "sans-code-service.xml" in text
    assert "service-expire.xml" in text and "2 flux" in text
    await p.look("02-suivi-des-flux-rejetes")

    rejected = next(f for f in s.flows if f.label == "sans-code-service.xml")
    async with p.page.expect_navigation():
        await p.page.get_by_role("link", name=rejected.numero).click()
    text = await p.text()
    assert "Le flux est rejeté" in text or "rejeté" in text
    assert "Code service obligatoire" in text and "Demandez-le à votre client" in text
    assert "SERVICE_CODE_REQUIRED" in text  # the stable code, for the partner's support
    await p.look("03-compte-rendu-rejete")
    expired = next(f for f in s.flows if f.label == "service-expire.xml")
    await p.open(f"/suivi-des-flux/{expired.numero}")
    assert "Service inactif" in await p.text()
    integrated = next(f for f in s.flows if f.label == "valide.xml")
    await p.open(f"/suivi-des-flux/{integrated.numero}")
    assert "Facture intégrée" in await p.text() and w.number in await p.text()
    await p.look("04-compte-rendu-integre")

    # what the supplier has no right to: typed by hand, refused in French
    await p.open(f"/factures-recues?structure={s.public_siret}")
    assert "Accès refusé" in await p.text()
    await p.look("05-acces-refuse")


def validation_workers(pid: int) -> list[int]:
    """The intake's child processes (its validation workers)."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_a_flow_in_progress_is_followed_without_reloading_the_page(world):
    p, s = world.p, world.s
    intake = p.stack.processes["invoice-intake"].process
    workers = validation_workers(intake.pid)
    assert workers
    # The validation workers paused: the next flow is received, then waits in progress.
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        inbox = s.env.edi_root / s.technical_account_id / "in"
        part = inbox / ".encore.xml.part"
        part.write_bytes(make_ubl_invoice(
            number=f"FA-{s.env.run_id}-4", service_code="COMPTA", buyer_siret=s.public_siret,
            supplier_siret=s.supplier_siret, supplier_name=s.supplier_name,
            buyer_name=s.public_name))
        part.rename(inbox / "encore.xml")
        flows = s.api(s.env.intake, s.supplier)

        async def received() -> dict | None:
            page = await flows.call("GET", "/v1/flows",
                                    params={"structurePartenaire": s.supplier_siret})
            return next((f for f in page["flux"] if f["nomFichier"] == "encore.xml"), None)

        flow = await eventually(received, TIMEOUT, "the new flow, received")
        assert flow["statut"] in ("IN_RECU", "IN_EN_ATTENTE_TRAITEMENT",
                                  "IN_EN_COURS_TRAITEMENT")
        await p.open("/suivi-des-flux")
        assert "1 flux en cours de traitement" in await p.text()
        await p.page.evaluate("window.memePage = true")
        await p.look("01b-suivi-des-flux-en-cours")
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    # The list follows by itself (the vendored script): same page, the flow now integrated.
    await p.page.wait_for_function("!document.querySelector('[data-actualiser]')",
                                   timeout=TIMEOUT * 1000)
    assert await p.page.evaluate("window.memePage === true")  # not reloaded
    row = p.page.get_by_role("row").filter(has_text="encore.xml")
    assert "Intégré" in await row.inner_text()


async def test_the_agent_opens_the_invoice_takes_it_in_charge_and_suspends_it(world):
    w, p, s = world, world.p, world.s
    agent = s.api(s.env.invoices, s.user)

    async def listed() -> dict | None:
        page = await agent.call("GET", "/v1/factures-recues", expect=(200, 403), params={
            "structure": s.public_siret, "numeroFacture": w.number})
        rows = page.get("factures", []) if isinstance(page, dict) else []
        return rows[0] if rows else None

    w.invoice_id = (await eventually(listed, TIMEOUT, "the invoice in Factures reçues"))[
        "invoiceId"]
    await w.sign_in_as(s.user)
    await w.menu().get_by_role("link", name="Factures reçues").click()
    await p.page.wait_for_url("**/factures-recues")
    assert w.number in await p.text() and "Mise à disposition" in await p.text()
    await p.look("06-factures-recues")

    await p.page.get_by_role("link", name=w.number).click()
    await p.page.wait_for_url(f"**/factures-recues/{w.invoice_id}")
    text = await p.text()
    assert "Lignes" in text and "Ventilation de la TVA" in text and s.supplier_name in text
    await p.look("07-facture-recue")
    async with p.page.expect_download() as download_info:
        await p.page.get_by_role("link", name="Télécharger le fichier original").click()
    download = await download_info.value
    assert download.suggested_filename == f"facture-{w.number}.xml"
    assert b"<Invoice" in Path(await download.path()).read_bytes()

    await p.submit("Prendre en charge")
    assert "La facture est prise en charge" in await p.text()
    assert (await w.invoice_status(s.user))["statut"] == "PRISE_EN_CHARGE"
    await p.page.get_by_text("Suspendre…").click()
    await p.page.select_option("#champ-motif-suspendre", "JUSTIF_ABS")
    await p.page.fill("#champ-commentaire-suspendre", "Merci de joindre le bon de livraison.")
    await p.look("08-facture-suspendre")
    await p.submit("Suspendre")
    assert "La facture est suspendue" in await p.text()
    await p.look("09-facture-suspendue")
    seen = await w.invoice_status(s.user)
    assert seen["statut"] == "SUSPENDUE"
    assert seen["historique"][-1]["motif"] == "JUSTIF_ABS"
    assert seen["historique"][-1]["commentaire"] == "Merci de joindre le bon de livraison."


async def test_the_supplier_completes_the_suspended_invoice_with_an_attachment(world):
    w, p, s = world, world.p, world.s
    await w.sign_in_as(s.supplier)
    await w.menu().get_by_role("link", name="Factures émises").click()
    await p.page.wait_for_url("**/factures-emises")
    assert "Suspendue" in await p.text()
    await p.look("10-factures-emises")
    await p.page.get_by_role("link", name=w.number).click()
    assert "Justificatif absent" in await p.text()
    await p.fill({"commentaire": "Bon de livraison signé joint."})
    await p.page.set_input_files("#champ-pieces", files=[{
        "name": "bon-de-livraison.pdf", "mimeType": "application/pdf", "buffer": RIB_PDF}])
    await p.look("11-facture-completer")
    await p.submit("Compléter la facture")
    assert "La facture est complétée" in await p.text()
    done = await w.invoice_status(s.supplier)
    assert done["statut"] == "COMPLETEE"
    assert [x["nom"] for x in done["historique"][-1]["piecesJointes"]] == ["bon-de-livraison.pdf"]
    await p.look("12-facture-completee")


async def test_the_agent_takes_the_completed_invoice_to_mise_en_paiement(world):
    w, p, s = world, world.p, world.s
    await w.sign_in_as(s.user)
    await p.open(f"/factures-recues/{w.invoice_id}")
    assert "Bon de livraison signé joint." in await p.text()
    async with p.page.expect_download() as download_info:
        await p.page.get_by_role("link", name="bon-de-livraison.pdf").click()
    assert Path(await (await download_info.value).path()).read_bytes() == RIB_PDF
    for button, notice in (("Prendre en charge", "prise en charge"),
                           ("Constater le service fait", "service fait est constaté"),
                           ("Marquer mandatée", "marquée mandatée"),
                           ("Mettre en paiement", "mise en paiement")):
        await p.submit(button)
        assert notice in await p.text(), button
    assert (await w.invoice_status(s.user))["statut"] == "MISE_EN_PAIEMENT"
    # final: no action offered any more
    assert await p.page.get_by_role("button", name="Suspendre").count() == 0
    await p.look("13-facture-mise-en-paiement")
    await p.open(f"/factures-emises?structure={s.supplier_siret}")
    assert "Accès refusé" in await p.text()  # the agent is not the supplier
    await p.open(f"/suivi-des-flux?structure={s.supplier_siret}")
    assert "Accès refusé" in await p.text()


async def test_mes_messages_shows_a_message_marks_it_read_and_keeps_preferences(world):
    w, p, s = world, world.p, world.s
    inbox = s.api(s.env.notifications, s.user)
    before = (await inbox.call("GET", "/v1/me/messages/unread-count"))["nonLus"]
    assert before >= 1  # the attachment's approval, the invoice made available…
    await w.sign_in_as(s.user)
    badge = p.page.locator("a.pastille")
    assert "non lu" in await badge.inner_text()
    await badge.click()
    await p.page.wait_for_url("**/mes-messages")
    await p.look("14-mes-messages")
    first = p.page.locator("tr.message-non-lu a").first
    subject = await first.inner_text()
    await first.click()
    assert subject in await p.text()
    await p.look("15-un-message")
    await p.submit("Marquer comme lu")
    assert "Le message est marqué comme lu" in await p.text()
    assert (await inbox.call("GET", "/v1/me/messages/unread-count"))["nonLus"] == before - 1

    await p.page.get_by_role("link", name="vos préférences").click()
    await p.page.select_option("#champ-frequence-FACTURE_MISE_A_DISPOSITION", "QUOTIDIEN")
    await p.look("16-preferences")
    await p.submit("Enregistrer mes préférences")
    assert "préférences de notification sont enregistrées" in await p.text()
    preferences = await inbox.call("GET", "/v1/me/preferences")
    chosen = {f["categorie"]: f["valeur"] for f in preferences["frequence"]}
    assert chosen["FACTURE_MISE_A_DISPOSITION"] == "QUOTIDIEN"
