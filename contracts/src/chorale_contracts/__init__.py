"""Chorale's event contracts: the envelope, topic names and every event payload.

Every service depends on this package and on nothing else of another service's.
"""

from chorale_contracts.envelope import Envelope, new_envelope
from chorale_contracts.registry import REGISTRY, EventPayload, decode_payload
from chorale_contracts.topics import Topic, dlq_topic, topic_name

__all__ = [
    "REGISTRY",
    "Envelope",
    "EventPayload",
    "Topic",
    "decode_payload",
    "dlq_topic",
    "new_envelope",
    "topic_name",
]

# Registers every payload class; keep last, the event modules import the names above.
import chorale_contracts.events  # noqa: F401
