"""Planning one batch of import rows against the stored state, without I/O.

The rows of a batch are applied in file order to a working copy of the structures they name
(loaded in one query), so a SERVICE line may follow its STRUCTURE line in the same batch. The
plan then holds one write per touched structure: an insert for a new one (its creation, its
services and one directory snapshot, version 1), a compare-and-set for a changed one (its
events and one snapshot of the new version). Each line's result is tied to its structure, so
when a write misses (a concurrent change), only that structure's lines are planned again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from chorale_contracts import Envelope, EventPayload
from chorale_structures.adapters.structure_store import StoredStructure
from chorale_structures.domain import (
    DomainError,
    ErrorCode,
    ImportOutcome,
    RowRejection,
    Service,
    ServiceRow,
    Structure,
    StructureRow,
    apply_service_row,
    apply_structure_row,
)
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.structure_changes import envelopes_for

ImportItem = StructureRow | ServiceRow | RowRejection
Result = ImportOutcome | RowRejection


@dataclass
class _Work:
    base: StoredStructure | None  # as loaded; None when created by this batch
    structure: Structure
    services: dict[str, Service]
    events: list[EventPayload] = field(default_factory=list)


@dataclass
class BatchPlan:
    # new structures and the events of their creation (event ids derived from the batch)
    inserts: list[tuple[StoredStructure, list[Envelope]]] = field(default_factory=list)
    updates: list[tuple[int, StoredStructure, list[Envelope]]] = field(default_factory=list)
    # (identifiant or None, result) per line, in file order
    results: list[tuple[str | None, Result]] = field(default_factory=list)


def _private(structure: Structure) -> DomainError:
    return DomainError(
        ErrorCode.STRUCTURE_EXISTS,
        "La structure est privée : l'import ne porte que sur les structures publiques.",
        {"identifiant": structure.identifiant},
    )


def _apply_structure(work: dict[str, _Work], row: StructureRow, today: date) -> ImportOutcome:
    current = work.get(row.identifiant)
    result = apply_structure_row(current.structure if current else None, row, today=today)
    if current is None:
        reserved = result.reserved_service
        assert reserved is not None
        work[row.identifiant] = _Work(
            None, result.state, {reserved.codeService: reserved}, list(result.events)
        )
    else:
        current.structure = result.state
        current.events.extend(result.events)
    return result.outcome


def _apply_service(work: dict[str, _Work], row: ServiceRow) -> ImportOutcome:
    current = work.get(row.identifiant)
    if current is None:
        raise DomainError(ErrorCode.STRUCTURE_NOT_FOUND, details={"identifiant": row.identifiant})
    if not current.structure.is_public:
        raise _private(current.structure)
    existing = current.services.get(row.codeService)
    result = apply_service_row(current.structure, existing, row, current.services.keys())
    current.services[row.codeService] = result.state
    current.events.extend(result.events)
    return result.outcome


def plan_batch(
    items: Iterable[ImportItem],
    loaded: Mapping[str, StoredStructure],
    *,
    today: date,
    actor: Actor,
    batch_id: str,
) -> BatchPlan:
    """``loaded``: the stored structures the rows may name (those absent are planned as new;
    the insert tells which existed after all). New structures remember ``batch_id``, and the
    ids of their events derive from it: planning the same batch again gives the same events."""
    work = {
        ident: _Work(stored, stored.structure, dict(stored.services))
        for ident, stored in loaded.items()
    }
    plan = BatchPlan()
    for item in items:
        if isinstance(item, RowRejection):
            plan.results.append((None, item))
            continue
        try:
            if isinstance(item, StructureRow):
                outcome = _apply_structure(work, item, today)
            else:
                outcome = _apply_service(work, item)
        except DomainError as error:
            plan.results.append(
                (item.identifiant, RowRejection.from_error(item.line, error, item.identifiant))
            )
            continue
        plan.results.append((item.identifiant, outcome))
    for entry in work.values():
        if not entry.events:
            continue
        if entry.base is None:
            new = StoredStructure(entry.structure, entry.services, created_at=actor.now,
                                  import_batch=batch_id)
            seed = f"{batch_id}|{new.identifiant}"
            plan.inserts.append((new, envelopes_for(actor, new, entry.events, seed)))
        else:
            new = entry.base.evolve(entry.structure, entry.services, actor.now)
            plan.updates.append(
                (entry.base.version, new, envelopes_for(actor, new, entry.events))
            )
    return plan


def identifiants(items: Iterable[ImportItem]) -> set[str]:
    return {i.identifiant for i in items if not isinstance(i, RowRejection)}


def lookups_needed(items: Iterable[ImportItem]) -> set[str]:
    """Structures a batch must load first: those its SERVICE lines name before (or without)
    a STRUCTURE line. A STRUCTURE line is first tried as a creation (inserts are cheap,
    lookups are not on every engine), and loaded only when the structure turns out to exist."""
    announced: set[str] = set()
    needed: set[str] = set()
    for item in items:
        if isinstance(item, StructureRow):
            announced.add(item.identifiant)
        elif isinstance(item, ServiceRow) and item.identifiant not in announced:
            needed.add(item.identifiant)
    return needed
