"""Apply an intent to one grant: read it, decide, store the change with its event (outbox),
retrying on a concurrent change (compare-and-set on the grant's version)."""

from __future__ import annotations

from dataclasses import dataclass

from chorale_contracts import new_envelope
from chorale_habilitations.adapters.grant_store import GrantStore
from chorale_habilitations.domain import errors
from chorale_habilitations.domain.grants import GrantChange, GrantKey
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

    async def apply(self, key: GrantKey, intent: Intent, cause: Cause) -> GrantChange | None:
        for _ in range(self._attempts):
            change = intent(await self.store.get(key.grant_id))
            if change is None:
                return None
            envelope = new_envelope(
                change.payload(), key=key.user_id, producer=self._producer,
                correlation_id=cause.correlation_id, causation_id=cause.causation_id,
            )
            if await self.store.save(change, envelope):
                return change
        raise errors.conflict(key.grant_id)
