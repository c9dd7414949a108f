"""Identifiers and files the journey makes up for each run, so runs never collide."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum import luhn

RIB_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0>>"
    b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def siret(rng: random.Random) -> str:
    siren = "".join(str(rng.randint(0, 9)) for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    head = siren + "".join(str(rng.randint(0, 9)) for _ in range(4))
    return head + luhn.calc_check_digit(head)


def reference_csv(public_siret: str, name: str) -> str:
    """The operator's reference list: one public structure (services come from its GP)."""
    header = ("type;identifiant;typeIdentifiant;raisonSociale;adresse;codePostal;ville;pays;"
              "codeServiceDoitEtreRenseigne;numeroEJDoitEtreRenseigne;"
              "gestionNumeroEJOuCodeService;presenceMOA")
    line = (f"STRUCTURE;{public_siret};SIRET;{name};8 boulevard des Grands Fossés;10130;"
            "Ervy-le-Châtel;FR;non;non;non;SANS_MOA")
    return f"{header}\n{line}\n"


def yesterday() -> date:
    return date.today() - timedelta(days=1)
