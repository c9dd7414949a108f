"""Applying parsed import rows to the stored state: pure, idempotent, with events.

The service layer, for each row: loads the existing structure (and service), calls
:func:`apply_structure_row` / :func:`apply_service_row`, stores ``state`` with ``events``
when the outcome is CREATED or UPDATED, and counts the outcome. Re-importing the same file
changes nothing and reports every line UNCHANGED. :func:`classify` tells the outcome without
building events. A DomainError from these functions rejects the row (STRUCTURE_EXISTS when
the identifiant belongs to a private structure, PARAMETERS_INCOHERENT when the file's
parameters contradict the stored ones, SERVICE_CODE_TAKEN, STRUCTURE_INACTIVE...).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from chorale_contracts import EventPayload
from chorale_contracts.events.common import StatutService, StatutStructure

from .errors import DomainError, ErrorCode
from .import_rows import ImportRow, ServiceRow, StructureRow
from .services import (
    Service,
    activate_service,
    deactivate_service,
    new_service,
    update_service,
)
from .structures import (
    Structure,
    activate,
    apply_update,
    deactivate,
    new_public_structure,
)


class ImportOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ImportResult:
    outcome: ImportOutcome
    state: Any  # Structure or Service
    events: list[EventPayload] = field(default_factory=list)
    reserved_service: Service | None = None  # FACTURES_PUBLIQUES of a created structure


def apply_structure_row(
    existing: Structure | None, row: StructureRow, *, today: date
) -> ImportResult:
    values = {k: v for k, v in row.values.items() if k != "statut"}
    statut = row.values.get("statut")
    if existing is None:
        created = new_public_structure(
            {"identifiant": row.identifiant, "typeIdentifiant": row.typeIdentifiant, **values},
            today=today,
            origin="IMPORT",
        )
        structure, events = created.structure, list(created.events)
        if statut is StatutStructure.INACTIVE:
            structure, more = deactivate(structure)
            events += more
        return ImportResult(ImportOutcome.CREATED, structure, events, created.reserved_service)
    if not existing.is_public:
        raise DomainError(
            ErrorCode.STRUCTURE_EXISTS,
            "Une structure privée existe déjà avec cet identifiant.",
            {"identifiant": existing.identifiant},
        )
    if existing.typeIdentifiant != row.typeIdentifiant:
        raise DomainError(ErrorCode.FIELD_READ_ONLY, details={"champ": "typeIdentifiant"})
    structure, events = apply_update(existing, values, by_operator=True)
    if statut is not None and statut != structure.statut:
        structure, more = (activate if statut is StatutStructure.ACTIVE else deactivate)(structure)
        events = events + more
    return ImportResult(
        ImportOutcome.UPDATED if events else ImportOutcome.UNCHANGED, structure, events
    )


def apply_service_row(
    structure: Structure,
    existing: Service | None,
    row: ServiceRow,
    existing_codes: Collection[str] = (),
) -> ImportResult:
    values = {k: v for k, v in row.values.items() if k != "statut"}
    statut = row.values.get("statut")
    if existing is None:
        service, events = new_service(
            structure, {"codeService": row.codeService, **values}, existing_codes
        )
        if statut is StatutService.INACTIF:
            service, more = deactivate_service(structure, service)
            events = events + more
        return ImportResult(ImportOutcome.CREATED, service, events)
    service, events = update_service(structure, existing, values)
    if statut is not None and statut != service.statut:
        change = activate_service if statut is StatutService.ACTIF else deactivate_service
        service, more = change(structure, service)
        events = events + more
    return ImportResult(
        ImportOutcome.UPDATED if events else ImportOutcome.UNCHANGED, service, events
    )


def _service_changes(existing: Service, row: ServiceRow) -> bool:
    merged = Service.model_validate({**existing.model_dump(), **row.values})
    return merged != existing


def classify(existing: Structure | Service | None, row: ImportRow) -> ImportOutcome:
    """CREATED, UPDATED or UNCHANGED: what importing ``row`` over ``existing`` would do."""
    if existing is None:
        return ImportOutcome.CREATED
    if isinstance(row, StructureRow):
        if not isinstance(existing, Structure):
            raise TypeError("a STRUCTURE row is classified against a Structure")
        return apply_structure_row(existing, row, today=date.min).outcome
    if not isinstance(existing, Service):
        raise TypeError("a SERVICE row is classified against a Service")
    return ImportOutcome.UPDATED if _service_changes(existing, row) else ImportOutcome.UNCHANGED
