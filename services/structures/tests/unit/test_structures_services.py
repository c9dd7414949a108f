from datetime import date

import pytest

from chorale_structures.domain.errors import DomainError, ErrorCode
from chorale_structures.domain.services import (
    RESERVED_SERVICE_CODE,
    Service,
    StatutService,
    activate_service,
    deactivate_service,
    ensure_code_available,
    is_active_on,
    new_service,
    normalize_service_code,
    update_service,
)
from chorale_structures.domain.structures import deactivate, new_public_structure

START = date(2025, 1, 1)


def _structure(identifiant="20007104100046"):
    created = new_public_structure(
        {"identifiant": identifiant, "raisonSociale": "Collectivité"}, today=START
    )
    return created.structure, created.reserved_service


def _service(structure, **data):
    values = {"codeService": "COMPTA", "libelle": "Comptabilité", "dateDebutActivation": START}
    return new_service(structure, {**values, **data}).state


def _error(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


# --- code ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0123", "0123"),
        (" compta-1 ", "COMPTA-1"),
        ("dsi_achats.2025", "DSI_ACHATS.2025"),
        ("A" * 100, "A" * 100),
    ],
)
def test_service_code_is_normalised(raw, expected):
    assert normalize_service_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "A" * 101, "-COMPTA", "_X", "COMPTA 1", "COMPTA/1", "SERVICÉ", None, 12]
)
def test_service_code_format_is_enforced(raw):
    assert _error(normalize_service_code, raw).code is ErrorCode.SERVICE_CODE_INVALID


def test_service_code_unique_within_its_structure_case_insensitively():
    structure, _ = _structure()
    err = _error(
        new_service,
        structure,
        {"codeService": "compta", "libelle": "x", "dateDebutActivation": START},
        existing_codes={"COMPTA", "RH"},
    )
    assert err.code is ErrorCode.SERVICE_CODE_TAKEN
    assert err.details == {"codeService": "COMPTA"}
    assert (
        _error(ensure_code_available, "rh", ["COMPTA", "RH"]).code is ErrorCode.SERVICE_CODE_TAKEN
    )


def test_same_code_in_another_structure_is_allowed():
    first, _ = _structure("20007104100046")
    other, _ = _structure("21750001600019")
    a = _service(first)
    b = new_service(
        other,
        {"codeService": "COMPTA", "libelle": "x", "dateDebutActivation": START},
        existing_codes={"FACTURES_PUBLIQUES"},
    ).state
    assert a.codeService == b.codeService == "COMPTA"


@pytest.mark.parametrize(
    "code", [RESERVED_SERVICE_CODE, "factures_publiques", " Factures_Publiques "]
)
def test_reserved_code_cannot_be_created_by_users(code):
    structure, _ = _structure()
    err = _error(
        new_service, structure, {"codeService": code, "libelle": "x", "dateDebutActivation": START}
    )
    assert err.code is ErrorCode.SERVICE_CODE_RESERVED


def test_reserved_service_cannot_be_modified_or_deactivated():
    structure, reserved = _structure()
    assert reserved.reserved
    for fn, args in (
        (update_service, (structure, reserved, {"libelle": "Autre"})),
        (deactivate_service, (structure, reserved)),
    ):
        assert _error(fn, *args).code is ErrorCode.SERVICE_CODE_RESERVED


# --- creation and dates --------------------------------------------------------------------


def test_created_service_is_active_and_announced_under_the_structure_key():
    structure, _ = _structure()
    service, [event] = new_service(
        structure,
        {
            "codeService": "dsi",
            "libelle": "DSI",
            "dateDebutActivation": "2025-02-01",
            "numeroEJDoitEtreRenseigne": True,
        },
    )
    assert service.statut is StatutService.ACTIF
    assert service.dateDebutActivation == date(2025, 2, 1)
    assert event.event_type == "structure.service_created"
    assert (event.identifiant, event.codeService, event.numeroEJDoitEtreRenseigne) == (
        structure.identifiant,
        "DSI",
        True,
    )


def test_start_date_is_required():
    structure, _ = _structure()
    err = _error(new_service, structure, {"codeService": "X", "libelle": "x"})
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert err.details["fields"] == {"dateDebutActivation": "valeur obligatoire"}


def test_libelle_is_required():
    structure, _ = _structure()
    err = _error(
        new_service, structure, {"codeService": "X", "libelle": " ", "dateDebutActivation": START}
    )
    assert "libelle" in err.details["fields"]


def test_end_before_start_is_incoherent():
    structure, _ = _structure()
    err = _error(
        new_service,
        structure,
        {
            "codeService": "X",
            "libelle": "x",
            "dateDebutActivation": "2025-06-01",
            "dateFinActivation": "2025-05-31",
        },
    )
    assert err.code is ErrorCode.DATES_INCOHERENT
    assert err.details == {"dateDebutActivation": "2025-06-01", "dateFinActivation": "2025-05-31"}


def test_end_equal_to_start_is_a_one_day_service():
    structure, _ = _structure()
    service = _service(structure, dateFinActivation=START)
    assert is_active_on(service, START)
    assert not is_active_on(service, date(2025, 1, 2))


def test_service_on_an_inactive_structure_is_refused():
    structure, _ = _structure()
    inactive, _ = deactivate(structure)
    err = _error(
        new_service, inactive, {"codeService": "X", "libelle": "x", "dateDebutActivation": START}
    )
    assert err.code is ErrorCode.STRUCTURE_INACTIVE


# --- is_active_on -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2024, 12, 31), False),
        (date(2025, 1, 1), True),
        (date(2025, 6, 15), True),
        (date(2025, 12, 31), True),  # the end date is the last active day
        (date(2026, 1, 1), False),
    ],
)
def test_is_active_on_bounds(day, expected):
    structure, _ = _structure()
    service = _service(structure, dateFinActivation=date(2025, 12, 31))
    assert is_active_on(service, day) is expected


def test_is_active_on_without_end_and_when_inactive():
    structure, _ = _structure()
    service = _service(structure)
    assert is_active_on(service, date(2099, 1, 1))
    inactive, _ = deactivate_service(structure, service)
    assert not is_active_on(inactive, date(2025, 6, 1))


# --- updates and transitions --------------------------------------------------------------


def test_update_changes_editable_fields_and_emits_the_new_state():
    structure, _ = _structure()
    service = _service(structure)
    updated, [event] = update_service(
        structure,
        service,
        {
            "libelle": "Compta générale",
            "dateFinActivation": "2025-12-31",
            "description": "Ligne 1\nLigne 2",
        },
    )
    assert updated.libelle == "Compta générale"
    assert updated.description == "Ligne 1\nLigne 2"
    assert event.event_type == "structure.service_updated"
    assert event.dateFinActivation == date(2025, 12, 31)


def test_update_with_incoherent_dates_is_refused():
    structure, _ = _structure()
    service = _service(structure)
    err = _error(update_service, structure, service, {"dateFinActivation": date(2024, 1, 1)})
    assert err.code is ErrorCode.DATES_INCOHERENT


def test_update_without_change_emits_nothing():
    structure, _ = _structure()
    service = _service(structure)
    assert update_service(
        structure, service, {"libelle": "Comptabilité", "codeService": "compta"}
    ) == (
        service,
        [],
    )


@pytest.mark.parametrize("field, value", [("codeService", "AUTRE"), ("statut", "INACTIF")])
def test_code_and_statut_are_not_editable(field, value):
    structure, _ = _structure()
    err = _error(update_service, structure, _service(structure), {field: value})
    assert err.code is ErrorCode.FIELD_READ_ONLY


def test_unknown_service_field_is_refused():
    structure, _ = _structure()
    err = _error(update_service, structure, _service(structure), {"couleur": "bleu"})
    assert err.code is ErrorCode.VALIDATION_FAILED


def test_deactivate_and_activate_service():
    structure, _ = _structure()
    service = _service(structure)
    inactive, [off] = deactivate_service(structure, service)
    assert inactive.statut is StatutService.INACTIF and off.statut == "INACTIF"
    assert off.event_type == "structure.service_deactivated"
    assert _error(deactivate_service, structure, inactive).code is ErrorCode.SERVICE_INACTIVE
    active, [on] = activate_service(structure, inactive)
    assert active.statut is StatutService.ACTIF and on.event_type == "structure.service_activated"
    assert _error(activate_service, structure, active).code is ErrorCode.SERVICE_ALREADY_ACTIVE


def test_stored_service_reloads_identically():
    structure, _ = _structure()
    service = _service(structure, dateFinActivation=date(2025, 12, 31))
    assert Service.model_validate(service.model_dump(mode="json")) == service
