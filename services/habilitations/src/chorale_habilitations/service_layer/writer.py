"""Apply an intent to one grant: read it, decide, store the change with its event (outbox),
retrying on a concurrent change (compare-and-set on the grant's version)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chorale_contracts import new_envelope
from chorale_habilitations.adapters.grant_store import GrantStore
from chorale_habilitations.domain import errors
from chorale_habilitations.domain.grants import GrantChange, GrantKey, GrantState
from chorale_habilitations.domain.policies import Intent


@dataclass(frozen=True)
class Cause:
    """What a change answers: an HTTP request (correlation id) or an incoming event."""

    correlation_id: str | None
    causation_id: str | None = None


class GrantWriter:
    def __init__(self, store: GrantStore, producer: str, attempts: int = 8):
        self.store = store
        self._producer = producer
        self._attempts = attempts

    async def apply(
        self, key: GrantKey, intent: Intent, cause: Cause, known: GrantState | None = None,
        prefetched: bool = False,
    ) -> GrantChange | None:
        """`known` (when `prefetched`) saves the first read; a lost race re-reads."""
        for attempt in range(self._attempts):
            current = known if prefetched and attempt == 0 else await self.store.get(
                key.grant_id)
            change = intent(current)
            if change is None:
                return None
            envelope = new_envelope(
                change.payload(), key=key.user_id, producer=self._producer,
                correlation_id=cause.correlation_id, causation_id=cause.causation_id,
            )
            if await self.store.save(change, envelope):
                return change
        raise errors.conflict(key.grant_id)

    async def apply_each(
        self, keys: list[GrantKey], intent_for: Callable[[GrantKey], Intent], cause: Cause
    ) -> list[GrantChange]:
        """The intent of each key, the current states read in one query; the changes made."""
        known = await self.store.get_many([k.grant_id for k in keys]) if keys else {}
        changes = []
        for key in keys:
            change = await self.apply(key, intent_for(key), cause, known.get(key.grant_id),
                                      prefetched=True)
            if change is not None:
                changes.append(change)
        return changes
