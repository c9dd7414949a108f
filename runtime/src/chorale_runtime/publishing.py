"""Publishing events to Kafka: the one publisher behind the outbox relay, the intake's records
and the structures import (DESIGN.md §3).

Every message carries the envelope as its value, the aggregate id as its key and the headers
`event_id`, `event_type` and `correlation_id` (consumers route and de-duplicate on them without
parsing the value). A publish returns once the broker has acknowledged every message (order kept
per key) and counts them in `chorale_events_published_total`; `publish` waits out a broker that
is away, with doubling back-off.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from chorale_contracts import REGISTRY, Envelope, topic_name
from chorale_runtime import metrics
from chorale_runtime.kafka import OutgoingMessage, Producer
from chorale_runtime.retry import Backoff, until_done

# Batches sized for bulk (hundreds of kilobytes rather than 16 KiB): an import sends thousands of
# events at once, and the per-request overhead of small batches was a third of its publishing.
BULK_BATCH_BYTES = 512 * 1024
# A broker away: tried again after 0.5 s, 1 s, 2 s… then every 30 s.
BROKER_AWAY = Backoff(0.5, 30.0)


def _headers(event_id: str, event_type: str, correlation_id: str) -> tuple[tuple[str, bytes], ...]:
    return (("event_id", event_id.encode()), ("event_type", event_type.encode()),
            ("correlation_id", correlation_id.encode()))


def outgoing_message(entry: dict[str, Any], topic_prefix: str = "") -> OutgoingMessage:
    """The message of one stored outbox entry (`outbox.outbox_entry`). An entry may carry its
    event type and correlation id (the intake stores them, several thousand events a second);
    otherwise they are read from the envelope."""
    if "event_type" in entry:
        event_type, correlation_id = entry["event_type"], entry["correlation_id"]
    else:
        value = json.loads(entry["value"])
        event_type, correlation_id = value["event_type"], value["correlation_id"]
    return OutgoingMessage(
        topic=topic_name(entry["topic"], topic_prefix),
        key=entry["key"].encode(),
        value=entry["value"].encode(),
        headers=_headers(entry["event_id"], event_type, correlation_id),
    )


def envelope_message(envelope: Envelope, topic_prefix: str = "") -> OutgoingMessage:
    """The message of an envelope not stored first (events derived again after a crash)."""
    topic = REGISTRY.payload_class(envelope.event_type).topic
    return OutgoingMessage(
        topic=topic_name(topic, topic_prefix),
        key=envelope.key.encode(),
        value=envelope.to_bytes(),
        headers=_headers(str(envelope.event_id), envelope.event_type, envelope.correlation_id),
    )


class EventPublisher:
    def __init__(self, producer: Producer, *, service: str, topic_prefix: str = "",
                 backoff: Backoff = BROKER_AWAY, start_on_demand: bool = False):
        """`start_on_demand`: the publisher owns `producer` and starts it at its first publish
        (the broker may be away when the service starts); `close` stops it."""
        self._producer = producer
        self._service = service
        self._prefix = topic_prefix
        self._backoff = backoff
        self._start_on_demand = start_on_demand

    @classmethod
    def bulk(cls, bootstrap_servers: str, client_id: str, *, service: str,
             topic_prefix: str = "", backoff: Backoff = BROKER_AWAY) -> EventPublisher:
        """A publisher with its own producer, batching for bulk (an import)."""
        producer = Producer(bootstrap_servers, client_id, linger_ms=5,
                            max_batch_bytes=BULK_BATCH_BYTES)
        return cls(producer, service=service, topic_prefix=topic_prefix, backoff=backoff,
                   start_on_demand=True)

    async def close(self) -> None:
        if self._start_on_demand:
            await self._producer.stop()

    async def send(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish once; raises if the broker does not acknowledge every message."""
        if not messages:
            return
        if self._start_on_demand:
            await self._producer.ensure_started()
        await self._producer.send_batch(messages)
        for topic, count in Counter(m.topic for m in messages).items():
            metrics.EVENTS_PUBLISHED.labels(self._service, topic).inc(count)

    async def publish_entries(self, entries: Iterable[dict[str, Any]]) -> None:
        """Publish stored outbox entries once (raises on failure)."""
        await self.send([outgoing_message(e, self._prefix) for e in entries])

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Publish envelopes, retrying while the broker cannot take them (until cancelled)."""
        messages = [envelope_message(e, self._prefix) for e in envelopes]
        await until_done(lambda: self.send(messages), backoff=self._backoff,
                         failed="events_publish_failed", events=len(messages))
