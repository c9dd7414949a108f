"""Sends the events stored in flow documents to Kafka, with the runtime's idempotent producer.

The intake publishes right after each write instead of going through the runtime's outbox
relay: the relay's follow-up update of every document (pulling the sent entries) would add a
read and a write per flow to the hot path (on upstream FerretDB 1.24, a read of the whole
collection). Here the "sent" mark is the "finished" marker of the flow's batch in its pending
generation (see `pending_store`); until then a restart publishes the flow's events again,
derived from its record with their original `event_id`s (see `service_layer.events`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from chorale_contracts import topic_name
from chorale_runtime import metrics as runtime_metrics
from chorale_runtime.kafka import OutgoingMessage, Producer
from chorale_runtime.outbox import outgoing_message


class Publisher:
    def __init__(self, producer: Producer, *, service: str, topic_prefix: str):
        self._producer = producer
        self._service = service
        self._prefix = topic_prefix

    def _message(self, entry: dict[str, Any]) -> OutgoingMessage:
        if "event_type" not in entry:  # an entry that does not carry its headers
            return outgoing_message(entry, self._prefix)
        return OutgoingMessage(
            topic=topic_name(entry["topic"], self._prefix),
            key=entry["key"].encode(),
            value=entry["value"].encode(),
            headers=(("event_id", entry["event_id"].encode()),
                     ("event_type", entry["event_type"].encode()),
                     ("correlation_id", entry["correlation_id"].encode())),
        )

    async def publish(self, entries: Iterable[dict[str, Any]]) -> None:
        """Return once the broker has acknowledged every entry (order kept per key)."""
        messages = [self._message(entry) for entry in entries]
        if not messages:
            return
        await self._producer.send_batch(messages)
        for topic, count in Counter(m.topic for m in messages).items():
            runtime_metrics.EVENTS_PUBLISHED.labels(self._service, topic).inc(count)
