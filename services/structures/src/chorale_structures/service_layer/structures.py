"""Use cases on a structure itself: create a private one, modify, parameters, (de)activate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.domain import (
    DomainError,
    ErrorCode,
    activate,
    apply_update,
    deactivate,
    new_private_structure,
)
from chorale_structures.domain.parameters import PARAMETER_FIELDS
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.structure_changes import (
    StructureChange,
    change_structure,
    envelopes_for,
)


async def create_private_structure(
    store: StructureStore, data: Mapping[str, Any], actor: Actor
) -> StoredStructure:
    """A supplier's structure, at once; ``structure.created`` names its creator (future GP)."""
    if actor.subject is None:
        raise ValueError("a private structure needs a creator")
    structure, events = new_private_structure(data, creator_id=actor.subject)
    stored = StoredStructure(structure, {}, version=1, created_at=actor.now)
    await store.insert(stored, envelopes_for(actor, stored, events))
    return stored


def _only(changes: Mapping[str, Any], allowed: bool, reason: str) -> None:
    if not allowed:
        fields = dict.fromkeys(changes, reason)
        raise DomainError(ErrorCode.VALIDATION_FAILED, details={"fields": fields})


async def update_structure(
    store: StructureStore, identifiant: str, changes: Mapping[str, Any], actor: Actor
) -> StoredStructure:
    """General information and postal address (parameters: :func:`set_parameters`)."""
    misplaced = {k: v for k, v in changes.items() if k in PARAMETER_FIELDS or k == "parametres"}
    _only(misplaced, not misplaced, "à modifier par PUT /v1/structures/{identifiant}/parametres")

    def decide(current: StoredStructure) -> StructureChange:
        updated, events = apply_update(
            current.structure, changes, by_operator=actor.is_operator
        )
        return StructureChange(updated, current.services, events)

    return await change_structure(store, identifiant, decide, actor)


async def set_parameters(
    store: StructureStore, identifiant: str, parameters: Mapping[str, Any], actor: Actor
) -> StoredStructure:
    """Set the given public-structure parameters; those not given keep their value."""
    unknown = {k: v for k, v in parameters.items() if k not in PARAMETER_FIELDS}
    _only(unknown, not unknown, "paramètre inconnu")

    def decide(current: StoredStructure) -> StructureChange:
        updated, events = apply_update(
            current.structure, {"parametres": dict(parameters)}, by_operator=actor.is_operator
        )
        return StructureChange(updated, current.services, events)

    return await change_structure(store, identifiant, decide, actor)


async def set_statut(
    store: StructureStore, identifiant: str, active: bool, actor: Actor
) -> StoredStructure:
    """Operator decision (directly, or as the effect of an accepted deactivation request)."""

    def decide(current: StoredStructure) -> StructureChange:
        updated, events = (activate if active else deactivate)(current.structure)
        return StructureChange(updated, current.services, events)

    return await change_structure(store, identifiant, decide, actor)
