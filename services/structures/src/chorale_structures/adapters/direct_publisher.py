"""Publishing envelopes straight to Kafka, in the relay's message format (key, headers), for
the import's new structures: their events are derived from the import file and republished
identically after a crash (see service_layer/import_runner.py), rather than stored."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from chorale_contracts import REGISTRY, Envelope, topic_name
from chorale_runtime import metrics
from chorale_runtime.kafka import OutgoingMessage, Producer
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class DirectPublisher:
    def __init__(self, producer: Producer, topic_prefix: str, service: str,
                 max_backoff: float = 30.0):
        self._producer = producer
        self._prefix = topic_prefix
        self._service = service
        self._max_backoff = max_backoff

    def _message(self, envelope: Envelope) -> OutgoingMessage:
        topic = REGISTRY.payload_class(envelope.event_type).topic
        return OutgoingMessage(
            topic=topic_name(topic, self._prefix),
            key=envelope.key.encode(),
            value=envelope.to_bytes(),
            headers=(  # as the outbox relay sends them
                ("event_id", str(envelope.event_id).encode()),
                ("event_type", envelope.event_type.encode()),
                ("correlation_id", envelope.correlation_id.encode()),
            ),
        )

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Returns once the broker acknowledged every message; retries while it cannot."""
        messages = [self._message(e) for e in envelopes]
        delay = 0.5
        while True:
            try:
                await self._producer.send_batch(messages)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: the import waits for it
                log.warning("import_publish_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
        for topic, count in Counter(m.topic for m in messages).items():
            metrics.EVENTS_PUBLISHED.labels(self._service, topic).inc(count)
