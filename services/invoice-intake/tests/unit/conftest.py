"""Fixtures for the intake's domain tests: real XML (CEN examples, generated samples)."""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.directory import RecipientEntry
from chorale_intake.domain.extraction import InvoiceFacts
from chorale_testkit import invoices as samples

DATA = Path(__file__).parent / "data"

BUYER = "20007104100046"  # a public structure (SIRET, Luhn-valid)
OTHER_BUYER = "21750001600019"
SUPPLIER = "73282932000074"  # the depositing partner's structure
OTHER_SUPPLIER = "44306184100047"
TODAY = date(2024, 6, 14)
UBL = "IN_DP_E1_UBL_INVOICE"
CII = "IN_DP_E1_CII_16B"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def patch(raw: bytes, *replacements: tuple[str, str]) -> bytes:
    """Apply textual replacements, each of which must match exactly once."""
    text = raw.decode("utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} found {text.count(old)} times"
        text = text.replace(old, new)
    return text.encode("utf-8")


def make(syntax: str = UBL, **overrides: Any) -> bytes:
    kwargs: dict[str, Any] = {
        "buyer_siret": BUYER,
        "supplier_siret": SUPPLIER,
        "number": "FA-2024-0042",
        "issue_date": date(2024, 6, 3),
        "lines": 3,
    }
    kwargs.update(overrides)
    return samples.make_invoice(syntax, **kwargs)


def facts_of(raw: bytes) -> InvoiceFacts:
    analysis = analyse(raw)
    assert analysis.errors == (), [e.message for e in analysis.errors]
    assert analysis.facts is not None
    return analysis.facts


def recipient(**overrides: Any) -> RecipientEntry:
    """A directory entry as the structures service publishes it (Chorus Pro names)."""
    snapshot: dict[str, Any] = {
        "identifiant": BUYER,
        "typeIdentifiant": "SIRET",
        "typeStructure": "PUBLIQUE",
        "statut": "ACTIVE",
        "raisonSociale": "CC DU CHAOURCOIS ET DU VAL D'ARMANCE",
        "parametres": {
            "codeServiceDoitEtreRenseigne": False,
            "numeroEJDoitEtreRenseigne": False,
            "gestionNumeroEJOuCodeService": False,
        },
        "services": [
            {
                "codeService": "SERV-COMPTA",
                "libelle": "Comptabilité",
                "statut": "ACTIF",
                "dateDebutActivation": "2020-01-01",
            },
            {
                "codeService": "SERV-TRAVAUX",
                "libelle": "Travaux",
                "statut": "ACTIF",
                "dateDebutActivation": "2024-01-01",
                "dateFinActivation": "2024-12-31",
                "numeroEJDoitEtreRenseigne": True,
            },
            {
                "codeService": "SERV-FERME",
                "libelle": "Service fermé",
                "statut": "INACTIF",
                "dateDebutActivation": "2019-01-01",
            },
        ],
        "version": 3,
    }
    parameters = {
        k: overrides.pop(k)
        for k in list(overrides)
        if k
        in (
            "codeServiceDoitEtreRenseigne",
            "numeroEJDoitEtreRenseigne",
            "gestionNumeroEJOuCodeService",
        )
    }
    snapshot["parametres"].update(parameters)
    snapshot.update(overrides)
    return RecipientEntry.model_validate(snapshot)


@pytest.fixture
def kit() -> types.SimpleNamespace:
    """The helpers above, for test modules (conftest is not importable under importlib mode)."""
    return types.SimpleNamespace(
        BUYER=BUYER,
        OTHER_BUYER=OTHER_BUYER,
        SUPPLIER=SUPPLIER,
        OTHER_SUPPLIER=OTHER_SUPPLIER,
        TODAY=TODAY,
        UBL=UBL,
        CII=CII,
        data=data,
        patch=patch,
        make=make,
        facts_of=facts_of,
        recipient=recipient,
    )


@pytest.fixture(params=[UBL, CII])
def syntax(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def check() -> Callable[..., list[str]]:
    """check(raw, **kwargs) -> the rule codes check_invoice returns, with sensible defaults."""
    from chorale_intake.domain.rules import check_invoice

    def run(raw: bytes, **kwargs: Any) -> list[str]:
        kwargs.setdefault("partner_identifier", SUPPLIER)
        kwargs.setdefault("recipient", recipient())
        kwargs.setdefault("today", TODAY)
        kwargs.setdefault("is_duplicate", False)
        return [e.code.value for e in check_invoice(facts_of(raw), **kwargs)]

    return run
