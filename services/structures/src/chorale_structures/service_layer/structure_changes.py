"""Changing a stored structure or its services: decide with the domain, then write the new
state, the events and the directory snapshot of the new version in one compare-and-set.

The decision is a pure function of the loaded state. When another change got in first (the
compare-and-set misses), the state is reloaded and the decision taken again, so a second
creation of one ``codeService`` ends in SERVICE_CODE_TAKEN, never in two services. The
compare-and-set is the guard; changes of one structure made through this process also queue
on a per-structure lock, so that twenty simultaneous requests do not retry each other out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import NamedTuple

from chorale_contracts import EventPayload
from chorale_runtime.errors import ApiError
from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.domain import (
    DomainError,
    ErrorCode,
    Service,
    Structure,
    normalize_service_code,
)
from chorale_structures.service_layer.context import Actor, directory_snapshot

MAX_ATTEMPTS = 8


class StructureChange(NamedTuple):
    structure: Structure
    services: dict[str, Service]
    events: list[EventPayload]


Decision = Callable[[StoredStructure], StructureChange]


def not_found(identifiant: str) -> DomainError:
    return DomainError(ErrorCode.STRUCTURE_NOT_FOUND, details={"identifiant": identifiant})


async def load(store: StructureStore, identifiant: str) -> StoredStructure:
    stored = await store.get(identifiant)
    if stored is None:
        raise not_found(identifiant)
    return stored


def envelopes_for(
    actor: Actor, new: StoredStructure, events: list[EventPayload], seed: str | None = None
) -> list:
    return actor.envelopes([*events, directory_snapshot(new)], seed)


class _KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold_many(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """In sorted order: whoever holds one lock at a time cannot deadlock with this."""
        async with contextlib.AsyncExitStack() as stack:
            for key in sorted(set(keys)):
                await stack.enter_async_context(self.hold(key))
            yield

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


structure_locks = _KeyedLocks()


async def change_structure(
    store: StructureStore, identifiant: str, decide: Decision, actor: Actor
) -> StoredStructure:
    """Apply ``decide`` to the current state; no write at all when it emits no event."""
    async with structure_locks.hold(identifiant):
        return await _change(store, identifiant, decide, actor)


async def _change(
    store: StructureStore, identifiant: str, decide: Decision, actor: Actor
) -> StoredStructure:
    for _ in range(MAX_ATTEMPTS):
        current = await load(store, identifiant)
        change = decide(current)
        if not change.events:
            return current
        new = current.evolve(change.structure, change.services, actor.now)
        if await store.replace(current.version, new, envelopes_for(actor, new, change.events)):
            return new
    raise ApiError(
        "STRUCTURE_CONFLICT",
        "La structure est modifiée en ce moment par ailleurs ; réessayez.",
        409,
        {"identifiant": identifiant},
    )


def with_service(stored: StoredStructure, service: Service) -> dict[str, Service]:
    return {**stored.services, service.codeService: service}


def find_service(stored: StoredStructure, code: str) -> Service:
    service = stored.services.get(normalize_service_code(code))
    if service is None:
        raise DomainError(
            ErrorCode.SERVICE_NOT_FOUND,
            details={"identifiant": stored.identifiant, "codeService": code},
        )
    return service
