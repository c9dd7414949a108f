"""Publish another service's events into a test namespace, as that service would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer

from chorale_contracts import Envelope, new_envelope, topic_name
from chorale_contracts.registry import EventPayload


class EventPublisher:
    """`await publish(payload, key)`: one envelope on the payload's topic, keyed by `key`.
    Test suites subclass it with helpers that build their own events."""

    def __init__(self, producer: AIOKafkaProducer, prefix: str):
        self._producer = producer
        self._prefix = prefix

    async def __call__(self, payload: EventPayload, key: str, **envelope: Any) -> Envelope:
        sent = new_envelope(payload, key=key, producer="test", **envelope)
        await self._producer.send_and_wait(
            topic_name(payload.topic, self._prefix), sent.to_bytes(), key=key.encode()
        )
        return sent


P = TypeVar("P", bound=EventPublisher)


@contextlib.asynccontextmanager
async def event_publisher(kind: type[P], infra: Any, namespace: Any) -> AsyncIterator[P]:
    """A started `kind` on the test infrastructure, stopped afterwards."""
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield kind(producer, namespace.topic_prefix)
    finally:
        await producer.stop()
