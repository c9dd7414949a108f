from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from chorale_contracts.events.common import StatutService, StatutStructure, TypeStructure
from chorale_contracts.events.directory import (
    DirectoryParameters,
    DirectoryService,
    DirectorySnapshot,
)
from chorale_intake.domain.directory import RecipientEntry


def test_a_published_snapshot_validates_straight_in():
    snapshot = DirectorySnapshot(
        identifiant="20007104100046",
        typeIdentifiant="SIRET",
        typeStructure="PUBLIQUE",
        statut="ACTIVE",
        raisonSociale="CC DU CHAOURCOIS",
        parametres=DirectoryParameters(
            codeServiceDoitEtreRenseigne=True, gestionNumeroEJOuCodeService=True
        ),
        services=[
            DirectoryService(
                codeService="SERV-1",
                libelle="Comptabilité",
                statut="ACTIF",
                dateDebutActivation=date(2020, 1, 1),
                numeroEJDoitEtreRenseigne=True,
            )
        ],
        version=7,
    )
    entry = RecipientEntry.model_validate(snapshot.model_dump(mode="json"))
    assert entry.identifier == "20007104100046"
    assert entry.structure_type is TypeStructure.PUBLIQUE and entry.is_public
    assert entry.statut is StatutStructure.ACTIVE and entry.is_active
    assert entry.parameters.service_code_required is True
    assert entry.parameters.engagement_required is False
    assert entry.parameters.service_or_engagement_required is True
    service = entry.service(" SERV-1 ")
    assert service is not None
    assert (service.statut, service.engagement_required) == (StatutService.ACTIF, True)
    assert service.activation_end is None
    assert entry.service("serv-1") is None  # codes are matched exactly


def test_flat_parameters_and_unknown_fields_are_accepted():
    entry = RecipientEntry.model_validate(
        {
            "identifiant": "21750001600019",
            "typeStructure": "PUBLIQUE",
            "statut": "INACTIVE",
            "numeroEJDoitEtreRenseigne": True,
            "adresseElectronique": "factures@paris.fr",
            "services": [],
        }
    )
    assert entry.parameters.engagement_required is True
    assert not entry.is_active


def test_python_names_work_too():
    entry = RecipientEntry(identifier="1", structure_type="PRIVEE", statut="ACTIVE", services=())
    assert not entry.is_public


@pytest.mark.parametrize(
    "bad",
    [{"statut": "ACTIF"}, {"typeStructure": "MIXTE"}, {"identifiant": None}],
)
def test_invalid_entries_are_refused(bad):
    data = {"identifiant": "1", "typeStructure": "PUBLIQUE", "statut": "ACTIVE", **bad}
    with pytest.raises(ValidationError):
        RecipientEntry.model_validate(data)


def test_service_activity_window_is_inclusive(kit):
    service = kit.recipient().service("SERV-TRAVAUX")
    assert not service.active_on(date(2023, 12, 31))
    assert service.active_on(date(2024, 1, 1))
    assert service.active_on(date(2024, 12, 31))
    assert not service.active_on(date(2025, 1, 1))
    assert not kit.recipient().service("SERV-FERME").active_on(date(2024, 6, 1))
