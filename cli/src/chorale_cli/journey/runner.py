"""Plays the journey chapter by chapter and reports what happened."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

import httpx

from chorale_cli.journey.chapter_invoices import invoice_is_processed
from chorale_cli.journey.chapter_public import (
    gp_completes_the_structure,
    operator_imports_and_designates,
)
from chorale_cli.journey.chapter_supplier import supplier_deposits_flows
from chorale_cli.journey.chapter_transfer import gp_hands_over
from chorale_cli.journey.chapter_user import user_joins_a_service
from chorale_cli.journey.data import siret
from chorale_cli.journey.env import JourneyEnv, Mail
from chorale_cli.journey.people import Person
from chorale_cli.journey.state import Flow, JourneyState

CHAPTERS = (
    operator_imports_and_designates,
    gp_completes_the_structure,
    user_joins_a_service,
    supplier_deposits_flows,
    invoice_is_processed,
    gp_hands_over,
)


class JourneyError(Exception):
    pass


@dataclass
class JourneyReport:
    steps: list[str]
    flows: list[Flow]
    mails: list[Mail]
    seconds: float
    people: dict[str, str]
    public_siret: str = ""
    supplier_siret: str = ""
    technical_account: dict | None = None
    invoice_id: str = ""


def cast_of(run: str) -> dict[str, Person]:
    domain = "demo.chorale.example"
    return {
        "operator": Person(f"operateur.{run}@{domain}", "Olivia", "Opératrice"),
        "gp": Person(f"gp.{run}@{domain}", "Gaëlle", "Principale"),
        "user": Person(f"agent.{run}@{domain}", "Ulysse", "Comptable"),
        "supplier": Person(f"fournisseur.{run}@{domain}", "Fabien", "Dupont"),
    }


async def run_journey(env: JourneyEnv) -> JourneyReport:
    env.run_id = env.run_id or uuid.uuid4().hex[:8]
    rng = random.Random(env.run_id)
    cast = cast_of(env.run_id)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        state = JourneyState(
            env=env, client=client, rng=rng, operator=cast["operator"], gp=cast["gp"],
            user=cast["user"], supplier=cast["supplier"], public_siret=siret(rng),
            supplier_siret=siret(rng),
        )
        for chapter in CHAPTERS:
            try:
                await chapter(state)
            except Exception as exc:
                raise JourneyError(f"{chapter.__name__}: {exc}") from exc
    emails = {p.email for p in cast.values()}
    mails = [m for m in env.mailbox.all() if any(e in m.to for e in emails)]
    return JourneyReport(state.steps, state.flows, mails, time.monotonic() - started,
                         {k: p.email for k, p in cast.items()}, state.public_siret,
                         state.supplier_siret, state.technical_account, state.invoice_id)
