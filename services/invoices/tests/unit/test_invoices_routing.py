"""Re-addressing is checked against the recipient's rules with the intake's codes."""

from __future__ import annotations

from datetime import date

import pytest

from chorale_contracts.events.directory import (
    DirectoryParameters,
    DirectoryService,
    DirectorySnapshot,
)
from chorale_invoices.domain.errors import InvoiceError
from chorale_invoices.domain.routing import check_routing

DAY = date(2026, 12, 1)


def _recipient(**params: bool) -> DirectorySnapshot:
    return DirectorySnapshot(
        identifiant="21000000000013", typeIdentifiant="SIRET", typeStructure="PUBLIQUE",
        statut="ACTIVE", raisonSociale="Commune", version=1,
        parametres=DirectoryParameters(**params),
        services=[
            DirectoryService(codeService="S1", libelle="S1", statut="ACTIF",
                             dateDebutActivation=date(2020, 1, 1)),
            DirectoryService(codeService="EJ", libelle="EJ", statut="ACTIF",
                             dateDebutActivation=date(2020, 1, 1),
                             numeroEJDoitEtreRenseigne=True),
            DirectoryService(codeService="FERME", libelle="F", statut="INACTIF",
                             dateDebutActivation=date(2020, 1, 1)),
            DirectoryService(codeService="ANCIEN", libelle="A", statut="ACTIF",
                             dateDebutActivation=date(2020, 1, 1),
                             dateFinActivation=date(2026, 6, 30)),
            DirectoryService(codeService="FACTURES_PUBLIQUES", libelle="FP", statut="ACTIF",
                             dateDebutActivation=date(2020, 1, 1)),
        ])


@pytest.mark.parametrize(("params", "service", "engagement", "code"), [
    ({}, "NOPE", None, "SERVICE_UNKNOWN"),
    ({}, "FERME", None, "SERVICE_INACTIVE"),
    ({}, "ANCIEN", None, "SERVICE_INACTIVE"),
    ({}, "FACTURES_PUBLIQUES", None, "SERVICE_RESERVED"),
    ({}, "EJ", None, "ENGAGEMENT_REQUIRED"),
    ({"numeroEJDoitEtreRenseigne": True}, "S1", None, "ENGAGEMENT_REQUIRED"),
    ({"codeServiceDoitEtreRenseigne": True}, None, "EJ-1", "SERVICE_CODE_REQUIRED"),
    ({"gestionNumeroEJOuCodeService": True}, None, None, "SERVICE_OR_ENGAGEMENT_REQUIRED"),
    ({}, "S1", "X" * 51, "ENGAGEMENT_TOO_LONG"),
])
def test_refusals(params: dict, service: str | None, engagement: str | None, code: str) -> None:
    with pytest.raises(InvoiceError) as refused:
        check_routing(_recipient(**params), service, engagement, DAY)
    assert refused.value.code == code


@pytest.mark.parametrize(("params", "service", "engagement"), [
    ({}, "S1", None), ({}, "EJ", "EJ-1"), ({"gestionNumeroEJOuCodeService": True}, None, "E"),
    ({"codeServiceDoitEtreRenseigne": True}, "S1", None),
])
def test_accepted(params: dict, service: str | None, engagement: str | None) -> None:
    check_routing(_recipient(**params), service, engagement, DAY)


def test_unknown_recipient() -> None:
    with pytest.raises(InvoiceError) as refused:
        check_routing(None, "S1", None, DAY)
    assert refused.value.code == "RECIPIENT_UNKNOWN"
