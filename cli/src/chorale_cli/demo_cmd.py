"""`chorale demo`: the webinar's journey against the running system (`make up`), narrated —
over the APIs, or (`--browser`) done by people in the portal, headless or in a visible window
(`--headed`)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chorale_cli.journey import JourneyEnv, JourneyError, JourneyReport, Mailbox, run_journey
from chorale_cli.journey.browser_journey import JOURNEY_ARTIFACTS, run_browser_journey
from chorale_cli.journey.operators import admin_command_creator
from chorale_cli.services import SERVICES


def render_summary(report: JourneyReport, console: Console) -> None:
    flows = Table(title="Flux déposés", show_lines=False)
    for column in ("fichier", "numéro de flux", "statut", "erreurs"):
        flows.add_column(column)
    for flow in report.flows:
        flows.add_row(flow.label, flow.numero, flow.statut, " ".join(flow.codes) or "—")
    console.print(flows)
    who = {email: role for role, email in report.people.items()}
    mails = Table(title="Courriels envoyés")
    mails.add_column("destinataire")
    mails.add_column("objet")
    for mail in report.mails:
        role = next((r for e, r in who.items() if e in mail.to), "?")
        mails.add_row(f"{role} <{mail.to}>", mail.subject)
    console.print(mails)
    per_role = Counter(next((r for e, r in who.items() if e in m.to), "?")
                       for m in report.mails)
    console.print(f"{len(report.steps)} étapes, {len(report.flows)} flux, "
                  f"{len(report.mails)} courriels ({dict(per_role)}) en {report.seconds:.1f} s")


def demo(
    structures: str = SERVICES["structures"].local_url,
    identity: str = SERVICES["identity"].local_url,
    habilitations: str = SERVICES["habilitations"].local_url,
    intake: str = SERVICES["invoice-intake"].local_url,
    notifications: str = SERVICES["notifications"].local_url,
    invoices: str = SERVICES["invoices"].local_url,
    edi_root: Path = Path("var/edi"),
    mail_dir: Path = Path("var/mail"),
    timeout: float = 90.0,
    browser: bool = False,
    headed: bool = False,
    portal: str | None = None,
) -> None:
    console = Console()
    env = JourneyEnv(
        structures=structures, identity=identity, habilitations=habilitations, intake=intake,
        notifications=notifications, edi_root=edi_root, mailbox=Mailbox(mail_dir),
        create_operator=admin_command_creator({
            "MONGODB_URI": os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/"),
        }),
        narrate=console.print, timeout=timeout, invoices=invoices,
    )
    if headed and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        console.print("[red]--headed montre le navigateur : il faut un écran (DISPLAY ou "
                      "WAYLAND_DISPLAY), par exemple une session graphique ou `xvfb-run`. "
                      "Sans écran, lancez la démonstration sans --headed.[/red]")
        raise typer.Exit(2)
    if browser:
        console.rule("Chorale — le parcours du webinaire, dans le portail")
        journey = run_browser_journey(env, portal or SERVICES["portal"].local_url,
                                      headless=not headed)
    else:
        console.rule("Chorale — le parcours du webinaire")
        journey = run_journey(env)
    try:
        report = asyncio.run(journey)
    except JourneyError as exc:
        console.print(f"[red]Le parcours s'est arrêté : {exc}[/red]")
        raise typer.Exit(1) from None
    console.rule("Résumé")
    render_summary(report, console)
    if browser:
        console.print(f"Captures d'écran de chaque étape : {JOURNEY_ARTIFACTS}")
