"""The directory (annuaire): routing snapshots and the two-sheet CSV export.

:func:`routing_snapshot` is what goes on the compacted ``chorale.directory.v1`` topic, keyed by
identifiant, after every change to the structure or one of its services: everything intake
needs to route an invoice, validated against the contract's ``DirectorySnapshot``. ``version``
is a per-structure counter the service layer increments on each publication (consumers keep
the highest). Services are listed by code so equal states give equal snapshots.

The CSV export has a structures sheet and a services sheet whose column names are those of
the operator import (docs/import-format.md), so an export can be edited and re-imported.
Booleans are ``oui``/``non`` and dates ISO (AAAA-MM-JJ). For a structure marked
``nonDiffusibleInsee`` the street address, e-mail and telephone are left blank: INSEE's
non-diffusion covers them, and the directory is meant to be shared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, Literal

from chorale_contracts.events.directory import DirectorySnapshot

from .parameters import PARAMETER_FIELDS, ParametresStructure
from .services import SERVICE_FIELDS, Service
from .structures import ADDRESS_FIELDS, GENERAL_FIELDS, Structure

Sheet = Literal["structures", "services"]

STRUCTURE_COLUMNS = (
    "identifiant",
    "typeIdentifiant",
    "typeStructure",
    "statut",
    *GENERAL_FIELDS,
    *ADDRESS_FIELDS,
    *PARAMETER_FIELDS,
)
SERVICE_COLUMNS = ("identifiant", *SERVICE_FIELDS)
_NOT_DIFFUSED = frozenset(
    {"adresse", "complementAdresse1", "complementAdresse2", "adresseElectronique", "telephone"}
)


def _sorted(services: Iterable[Service]) -> list[Service]:
    return sorted(services, key=lambda s: s.codeService)


def routing_snapshot_event(
    structure: Structure, services: Iterable[Service], *, version: int
) -> DirectorySnapshot:
    """The directory topic's payload for one structure (see :func:`routing_snapshot`)."""
    params = structure.parametres or ParametresStructure()
    return DirectorySnapshot(
        identifiant=structure.identifiant,
        typeIdentifiant=structure.typeIdentifiant,
        typeStructure=structure.typeStructure,
        statut=structure.statut,
        raisonSociale=structure.raisonSociale,
        parametres=params.model_dump(mode="json"),
        services=[s.model_dump(mode="json", exclude={"description"}) for s in _sorted(services)],
        version=version,
    )


def routing_snapshot(
    structure: Structure, services: Iterable[Service], *, version: int
) -> dict[str, Any]:
    """The full routing snapshot of one structure, as the JSON payload of the directory topic."""
    return routing_snapshot_event(structure, services, version=version).model_dump(mode="json")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def structure_entry(structure: Structure) -> dict[str, Any]:
    """A structure as a directory line, JSON-typed, non-diffusible fields blanked."""
    values = structure.model_dump(mode="json")
    values.update((structure.parametres or ParametresStructure()).model_dump(mode="json"))
    if structure.nonDiffusibleInsee:
        values.update(dict.fromkeys(_NOT_DIFFUSED))
    return {c: values[c] for c in STRUCTURE_COLUMNS}


def service_entry(structure_id: str, service: Service) -> dict[str, Any]:
    values = {"identifiant": structure_id, **service.model_dump(mode="json")}
    return {c: values[c] for c in SERVICE_COLUMNS}


def structure_csv_row(structure: Structure) -> list[str]:
    return [_cell(v) for v in structure_entry(structure).values()]


def service_csv_row(structure_id: str, service: Service) -> list[str]:
    return [_cell(v) for v in service_entry(structure_id, service).values()]


def directory_entries(
    entries: Iterable[tuple[Structure, Iterable[Service]]], sheet: Sheet
) -> Iterator[dict[str, Any]]:
    """The lines of one sheet as JSON objects (same columns as the CSV export)."""
    for structure, services in entries:
        if sheet == "structures":
            yield structure_entry(structure)
        else:
            for service in _sorted(services):
                yield service_entry(structure.identifiant, service)


def directory_csv_rows(
    entries: Iterable[tuple[Structure, Iterable[Service]]],
) -> Iterator[tuple[Sheet, list[str]]]:
    """Stream ``(sheet, row)`` pairs: both header rows first, then each structure's row
    followed by its services' rows. The caller writes each row to its sheet's file."""
    yield "structures", list(STRUCTURE_COLUMNS)
    yield "services", list(SERVICE_COLUMNS)
    for structure, services in entries:
        yield "structures", structure_csv_row(structure)
        for service in _sorted(services):
            yield "services", service_csv_row(structure.identifiant, service)
