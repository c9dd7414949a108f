"""Use cases on the services of a structure (code service, dates, EJ flag, statut)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.domain import Service, new_service
from chorale_structures.domain.services import (
    activate_service,
    deactivate_service,
    update_service,
)
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.structure_changes import (
    StructureChange,
    change_structure,
    find_service,
    with_service,
)


async def create_service(
    store: StructureStore, identifiant: str, data: Mapping[str, Any], actor: Actor
) -> Service:
    """The code must be free in the structure when the write happens, not only when read."""

    def decide(current: StoredStructure) -> StructureChange:
        service, events = new_service(current.structure, data, current.services.keys())
        return StructureChange(current.structure, with_service(current, service), events)

    stored = await change_structure(store, identifiant, decide, actor)
    return find_service(stored, data["codeService"])


async def modify_service(
    store: StructureStore, identifiant: str, code: str, changes: Mapping[str, Any], actor: Actor
) -> Service:
    def decide(current: StoredStructure) -> StructureChange:
        service, events = update_service(
            current.structure, find_service(current, code), changes
        )
        return StructureChange(current.structure, with_service(current, service), events)

    return find_service(await change_structure(store, identifiant, decide, actor), code)


async def set_service_statut(
    store: StructureStore, identifiant: str, code: str, active: bool, actor: Actor
) -> Service:
    change = activate_service if active else deactivate_service

    def decide(current: StoredStructure) -> StructureChange:
        service, events = change(current.structure, find_service(current, code))
        return StructureChange(current.structure, with_service(current, service), events)

    return find_service(await change_structure(store, identifiant, decide, actor), code)
