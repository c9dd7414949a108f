"""Publishing envelopes straight to Kafka, in the relay's message format (key, headers), for
the import's new structures: their events are derived from the import file and republished
identically after a crash (see service_layer/import_runner.py), rather than stored.

Its own idempotent, acks=all producer, with batches sized for bulk (hundreds of kilobytes
rather than the default 16 KiB): an import sends thousands of events per batch, and the
per-request overhead of small batches was a third of the import's publishing time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from chorale_contracts import REGISTRY, Envelope, topic_name
from chorale_runtime import metrics
from chorale_runtime.kafka import OutgoingMessage
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class DirectPublisher:
    def __init__(self, bootstrap_servers: str, client_id: str, topic_prefix: str, service: str,
                 max_backoff: float = 30.0, max_batch_bytes: int = 512 * 1024):
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._prefix = topic_prefix
        self._service = service
        self._max_backoff = max_backoff
        self._max_batch_bytes = max_batch_bytes
        self._producer: AIOKafkaProducer | None = None

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap, client_id=self._client_id,
                enable_idempotence=True, acks="all", linger_ms=5,
                max_batch_size=self._max_batch_bytes, request_timeout_ms=15_000,
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.flush()
            await self._producer.stop()
            self._producer = None

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
                producer = await self._started()
                futures = [
                    await producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                    for m in messages
                ]
                await asyncio.gather(*futures)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: the import waits for it
                log.warning("import_publish_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
        for topic, count in Counter(m.topic for m in messages).items():
            metrics.EVENTS_PUBLISHED.labels(self._service, topic).inc(count)
