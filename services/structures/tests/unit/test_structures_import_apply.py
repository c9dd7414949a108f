import io
from datetime import date

import pytest

from chorale_structures.domain.csv_import import (
    ImportOutcome,
    apply_service_row,
    apply_structure_row,
    classify,
    iter_import_rows,
)
from chorale_structures.domain.errors import DomainError, ErrorCode
from chorale_structures.domain.services import StatutService, new_service
from chorale_structures.domain.structures import (
    StatutStructure,
    apply_update,
    deactivate,
    new_private_structure,
)

TODAY = date(2025, 4, 1)
HEADER = (
    "type;identifiant;raisonSociale;ville;statut;codeServiceDoitEtreRenseigne;"
    "gestionNumeroEJOuCodeService;recevoirDonneesViaEDI;codeService;libelle;dateDebutActivation;"
    "dateFinActivation;numeroEJDoitEtreRenseigne"
)


def _rows(*lines: str, header: str = HEADER):
    rows = list(iter_import_rows(io.StringIO("\n".join([header, *lines]) + "\n")))
    assert all(not hasattr(r, "code") for r in rows), rows
    return rows


def _import(lines, store=None, services=None, header: str = HEADER):
    """A tiny in-memory run of the service layer's loop; returns outcomes and all events."""
    store = {} if store is None else store
    services = {} if services is None else services
    outcomes, events = [], []
    for row in _rows(*lines, header=header):
        if row.kind == "STRUCTURE":
            expected = classify(store.get(row.identifiant), row)
            result = apply_structure_row(store.get(row.identifiant), row, today=TODAY)
            store[row.identifiant] = result.state
            if result.reserved_service:
                services[(row.identifiant, "FACTURES_PUBLIQUES")] = result.reserved_service
        else:
            key = (row.identifiant, row.codeService)
            expected = classify(services.get(key), row)
            codes = [c for (i, c) in services if i == row.identifiant]
            result = apply_service_row(store[row.identifiant], services.get(key), row, codes)
            services[key] = result.state
        assert result.outcome is expected  # classify agrees with apply
        outcomes.append(result.outcome)
        events += [e.event_type for e in result.events]
    return outcomes, events, store, services


FILE = [
    "STRUCTURE;20007104100046;CC DU CHAOURCOIS;ERVY;;oui;non;oui;;;;;",
    "SERVICE;20007104100046;;;;;;;COMPTA;Comptabilité;2025-01-01;;non",
    "SERVICE;20007104100046;;;INACTIF;;;;ARCHIVES;Archives;2020-01-01;2024-12-31;non",
    "STRUCTURE;21750001600019;VILLE DE PARIS;PARIS;INACTIVE;non;oui;non;;;;;",
]


def test_first_import_creates_everything_with_events():
    outcomes, events, store, services = _import(FILE)
    assert outcomes == [ImportOutcome.CREATED] * 4
    assert events == [
        "structure.created",
        "structure.service_created",  # + FACTURES_PUBLIQUES
        "structure.service_created",
        "structure.service_created",
        "structure.service_deactivated",
        "structure.created",
        "structure.service_created",
        "structure.deactivated",
    ]
    chaource = store["20007104100046"]
    assert chaource.parametres.codeServiceDoitEtreRenseigne is True
    assert chaource.parametres.recevoirDonneesViaEDI is True  # operator import may set it
    assert store["21750001600019"].statut is StatutStructure.INACTIVE
    assert services[("20007104100046", "ARCHIVES")].statut is StatutService.INACTIF
    assert services[("20007104100046", "FACTURES_PUBLIQUES")].dateDebutActivation == TODAY


def test_reimporting_the_same_file_changes_nothing():
    _, _, store, services = _import(FILE)
    outcomes, events, store2, _ = _import(FILE, store, services)
    assert outcomes == [ImportOutcome.UNCHANGED] * 4
    assert events == []
    assert store2 == store


def test_changed_lines_are_updates_with_their_events():
    _, _, store, services = _import(FILE)
    outcomes, events, store, services = _import(
        [
            "STRUCTURE;20007104100046;CC DU CHAOURCOIS;ERVY-LE-CHATEL;;oui;non;oui;;;;;",
            "SERVICE;20007104100046;;;;;;;COMPTA;Comptabilité;2025-01-01;2025-12-31;oui",
            "SERVICE;20007104100046;;;ACTIF;;;;ARCHIVES;Archives;2020-01-01;2024-12-31;non",
            "STRUCTURE;21750001600019;VILLE DE PARIS;PARIS;ACTIVE;non;oui;non;;;;;",
        ],
        store,
        services,
    )
    assert outcomes == [ImportOutcome.UPDATED] * 4
    assert events == [
        "structure.updated",
        "structure.service_updated",
        "structure.service_activated",
        "structure.activated",
    ]
    assert services[("20007104100046", "COMPTA")].dateFinActivation == date(2025, 12, 31)


def test_columns_absent_from_the_file_keep_what_the_entity_set():
    _, _, store, services = _import(FILE)
    edited, _ = apply_update(
        store["20007104100046"],
        {"libelleStructure": "Communauté Chaource", "codeServiceDoitEtreRenseigne": False},
    )
    store["20007104100046"] = edited
    outcomes, events, store, _ = _import(
        ["20007104100046;CC DU CHAOURCOIS;TROYES"],
        store,
        services,
        header="identifiant;raisonSociale;ville",
    )
    assert outcomes == [ImportOutcome.UPDATED] and events == ["structure.updated"]
    result = store["20007104100046"]
    assert (result.ville, result.libelleStructure) == ("TROYES", "Communauté Chaource")
    assert result.parametres.codeServiceDoitEtreRenseigne is False


def test_file_parameters_that_contradict_stored_ones_are_rejected():
    _, _, store, _ = _import(FILE)  # codeServiceDoitEtreRenseigne = oui
    [row] = _rows(
        "20007104100046;CC DU CHAOURCOIS;oui",
        header="identifiant;raisonSociale;gestionNumeroEJOuCodeService",
    )
    with pytest.raises(DomainError) as info:
        apply_structure_row(store["20007104100046"], row, today=TODAY)
    assert info.value.code is ErrorCode.PARAMETERS_INCOHERENT


def test_identifiant_of_a_private_structure_is_not_overwritten():
    private, _ = new_private_structure(
        {"identifiant": "20007104100046", "raisonSociale": "Homonyme"}, creator_id="u"
    )
    [row] = _rows(FILE[0])
    with pytest.raises(DomainError) as info:
        apply_structure_row(private, row, today=TODAY)
    assert info.value.code is ErrorCode.STRUCTURE_EXISTS


def test_type_identifiant_cannot_change():
    _, _, store, _ = _import(["STRUCTURE;20007104100046;X;;;;;;;;;;"])
    [row] = _rows("20007104100046;X;HORS_UE", header="identifiant;raisonSociale;typeIdentifiant")
    with pytest.raises(DomainError) as info:
        apply_structure_row(store["20007104100046"], row, today=TODAY)
    assert info.value.code is ErrorCode.FIELD_READ_ONLY


def test_new_service_with_a_taken_code_or_on_an_inactive_structure():
    _, _, store, _ = _import(FILE)
    [row] = _rows("SERVICE;20007104100046;;;;;;;COMPTA;Autre;2025-01-01;;non")
    with pytest.raises(DomainError) as info:
        apply_service_row(store["20007104100046"], None, row, ["COMPTA"])
    assert info.value.code is ErrorCode.SERVICE_CODE_TAKEN
    inactive, _ = deactivate(store["20007104100046"])
    with pytest.raises(DomainError) as info:
        apply_service_row(inactive, None, row)
    assert info.value.code is ErrorCode.STRUCTURE_INACTIVE


def test_classify_needs_the_matching_kind_of_state():
    _, _, store, _ = _import(FILE)
    [service_row] = _rows("SERVICE;20007104100046;;;;;;;COMPTA;C;2025-01-01;;non")
    with pytest.raises(TypeError):
        classify(store["20007104100046"], service_row)
    structure = store["20007104100046"]
    service = new_service(
        structure, {"codeService": "X", "libelle": "x", "dateDebutActivation": TODAY}
    ).state
    [structure_row] = _rows(FILE[0])
    with pytest.raises(TypeError):
        classify(service, structure_row)
