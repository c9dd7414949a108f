"""Who acts, when, under which correlation id; and the envelopes of the events they cause."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chorale_contracts import Envelope, EventPayload, new_envelope
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_structures.domain.directory import routing_snapshot_event

if TYPE_CHECKING:
    from chorale_structures.adapters.structure_store import StoredStructure

PRODUCER = "structures"
EVENT_ID_NAMESPACE = uuid.UUID("6f0c1d52-3b59-4b8e-9a57-6c2f1d0b7a11")


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

    def renewed(self) -> Actor:
        """The same author, now (for work that spans time, like an import)."""
        return replace(self, now=datetime.now(UTC))

    def envelopes(
        self, payloads: Iterable[EventPayload], seed: str | None = None
    ) -> list[Envelope]:
        """Every payload of this service carries the structure's identifiant: the Kafka key.

        With a ``seed``, event ids are derived from it (the n-th payload gets the same id
        whenever the same change is planned again): a replayed import republishes the same
        events, which consumers then de-duplicate."""
        return [
            new_envelope(
                payload,
                key=payload.identifiant,  # type: ignore[attr-defined]
                producer=PRODUCER,
                correlation_id=self.correlation_id,
                causation_id=self.causation_id,
                occurred_at=self.now,
                event_id=uuid.uuid5(EVENT_ID_NAMESPACE, f"{seed}|{n}") if seed else None,
            )
            for n, payload in enumerate(payloads)
        ]


def directory_snapshot(stored: StoredStructure) -> DirectorySnapshot:
    """The compacted-topic record of one structure at its current version."""
    return routing_snapshot_event(
        stored.structure, stored.services.values(), version=stored.version
    )
