"""Who acts, when, under which correlation id; and the envelopes of the events they cause."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chorale_contracts import Envelope, EventPayload, new_envelope
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_structures.domain import routing_snapshot

if TYPE_CHECKING:
    from chorale_structures.adapters.structure_store import StoredStructure

PRODUCER = "structures"


@dataclass(frozen=True)
class Actor:
    """The author of a change. ``subject`` is None for the platform itself (recovery)."""

    subject: str | None
    correlation_id: str
    is_operator: bool = False
    causation_id: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def system(cls, correlation_id: str) -> Actor:
        return cls(None, correlation_id, is_operator=True)

    def envelopes(self, payloads: Iterable[EventPayload]) -> list[Envelope]:
        """Every payload of this service carries the structure's identifiant: the Kafka key."""
        return [
            new_envelope(
                payload,
                key=payload.identifiant,  # type: ignore[attr-defined]
                producer=PRODUCER,
                correlation_id=self.correlation_id,
                causation_id=self.causation_id,
                occurred_at=self.now,
            )
            for payload in payloads
        ]


def directory_snapshot(stored: StoredStructure) -> DirectorySnapshot:
    """The compacted-topic record of one structure at its current version."""
    return DirectorySnapshot.model_validate(
        routing_snapshot(stored.structure, stored.services.values(), version=stored.version)
    )
