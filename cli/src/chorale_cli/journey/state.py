"""What the journey has built so far, shared by its chapters."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from chorale_cli.journey.env import JourneyEnv
from chorale_cli.journey.http import Api
from chorale_cli.journey.people import Person


@dataclass
class Flow:
    label: str
    numero: str
    statut: str
    codes: list[str]


@dataclass
class JourneyState:
    env: JourneyEnv
    client: httpx.AsyncClient
    rng: random.Random
    operator: Person
    gp: Person
    user: Person
    supplier: Person
    public_siret: str
    supplier_siret: str
    public_name: str = "Communauté de communes du Chaourcois"
    supplier_name: str = "Fournitures Dupont SARL"
    technical_account_id: str = ""
    # id, clientId and the once-shown clientSecret: tests deposit through the API with it
    technical_account: dict = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    invoice_id: str = ""  # the integrated invoice, once processed (chapter 4 bis)
    steps: list[str] = field(default_factory=list)

    def api(self, base: str, who: Person | None = None) -> Api:
        return Api(self.client, base, who.token if who else None)

    def step(self, text: str) -> None:
        self.steps.append(text)
        self.env.narrate(f"  ✔ {text}")
