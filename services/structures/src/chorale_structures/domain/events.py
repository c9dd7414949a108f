"""What a domain operation returns: the new state and the events recording the change.

Events are the payload classes of ``chorale_contracts`` (extra fields forbidden), so the domain
cannot emit a payload the contract does not describe. The service layer wraps each one with
``chorale_contracts.new_envelope(payload, key=payload.identifiant, ...)`` and writes it to the
outbox together with the new state. Every structures-topic payload carries the structure's
``identifiant``, the Kafka key, so one structure's events stay ordered.
"""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

from chorale_contracts import EventPayload

T = TypeVar("T")


class Outcome(NamedTuple, Generic[T]):
    """The new state of an aggregate and the events that record the change (maybe none)."""

    state: T
    events: list[EventPayload]
