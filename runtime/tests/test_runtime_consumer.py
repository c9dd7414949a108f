"""The per-event algorithm of ReliableConsumer, with in-memory fakes for the inbox and producer
(the real broker and database are exercised by tests/integration)."""

import asyncio

import pytest
from aiokafka import ConsumerRecord

from chorale_contracts import Topic, new_envelope
from chorale_contracts.events.structures import StructureCreated
from chorale_runtime.consumer import (
    PermanentError,
    ReliableConsumer,
    RetryPolicy,
    ShuttingDown,
    Subscription,
)


class FakeInbox:
    def __init__(self):
        self.marked: list[str] = []

    async def seen(self, event_id):
        return event_id in self.marked

    async def mark(self, event_id, event_type):
        self.marked.append(event_id)


class FakeProducer:
    def __init__(self):
        self.sent = []

    async def send(self, message):
        self.sent.append(message)


def _record(value: bytes, offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord(
        topic="p.chorale.structures.v1", partition=1, offset=offset, timestamp=0,
        timestamp_type=0, key=b"k", value=value, checksum=None, serialized_key_size=1,
        serialized_value_size=len(value), headers=[("event_id", b"x")],
    )


def _event_bytes():
    env = new_envelope(
        StructureCreated(identifiant="1", typeIdentifiant="SIRET", typeStructure="PRIVEE",
                         raisonSociale="ACME"),
        key="1", producer="structures",
    )
    return env, env.to_bytes()


def _consumer(handler, *, retries=3, stopping=None):
    inbox, producer = FakeInbox(), FakeProducer()
    consumer = ReliableConsumer(
        Subscription("test", (Topic.STRUCTURES,), {"structure.created": handler}),
        service="svc", topic_prefix="p.", inbox=inbox, producer=producer,
        retry=RetryPolicy(retries, 0.001, 0.002), stopping=stopping or asyncio.Event(),
    )
    return consumer, inbox, producer


async def test_a_handled_event_is_marked_once_and_replays_are_skipped():
    calls = []

    async def handler(envelope, payload):
        calls.append(payload.raisonSociale)

    consumer, inbox, producer = _consumer(handler)
    env, raw = _event_bytes()
    await consumer._handle(_record(raw))
    await consumer._handle(_record(raw, offset=8))  # same event re-published
    assert calls == ["ACME"]
    assert inbox.marked == [str(env.event_id)]
    assert producer.sent == []


async def test_transient_failures_are_retried_with_backoff_then_succeed():
    attempts = []

    async def flaky(envelope, payload):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("database hiccup")

    consumer, inbox, producer = _consumer(flaky)
    await consumer._handle(_record(_event_bytes()[1]))
    assert len(attempts) == 3
    assert len(inbox.marked) == 1
    assert producer.sent == []


async def test_exhausted_retries_park_the_raw_event_in_the_dlq_with_the_error():
    async def broken(envelope, payload):
        raise ConnectionError("still down")

    consumer, inbox, producer = _consumer(broken, retries=2)
    _, raw = _event_bytes()
    await consumer._handle(_record(raw))
    [parked] = producer.sent
    headers = dict(parked.headers)
    assert parked.topic == "p.chorale.structures.v1.dlq"
    assert parked.value == raw
    assert headers["x-error"] == b"still down"
    assert headers["x-error-type"] == b"ConnectionError"
    assert headers["x-attempts"] == b"3"
    assert headers["x-original-offset"] == b"7"
    assert headers["event_id"] == b"x"  # original headers kept
    assert len(inbox.marked) == 1  # settled: parked counts as handled


async def test_permanent_errors_skip_the_retries():
    attempts = []

    async def reject(envelope, payload):
        attempts.append(1)
        raise PermanentError("structure inconnue")

    consumer, _, producer = _consumer(reject, retries=5)
    await consumer._handle(_record(_event_bytes()[1]))
    assert len(attempts) == 1
    assert dict(producer.sent[0].headers)["x-error-type"] == b"PermanentError"


async def test_a_malformed_message_goes_to_the_dlq_without_calling_the_handler():
    async def handler(envelope, payload):
        raise AssertionError("must not be called")

    consumer, inbox, producer = _consumer(handler)
    await consumer._handle(_record(b"{not json"))
    assert producer.sent[0].value == b"{not json"
    assert inbox.marked == []


async def test_an_invalid_payload_is_parked():
    async def handler(envelope, payload):
        raise AssertionError("must not be called")

    consumer, _, producer = _consumer(handler)
    env, _ = _event_bytes()
    broken = env.model_copy(update={"payload": {"identifiant": "1"}}).to_bytes()
    await consumer._handle(_record(broken))
    assert dict(producer.sent[0].headers)["x-error-type"] == b"ValidationError"


async def test_events_without_a_handler_are_ignored():
    consumer, inbox, producer = _consumer(None)
    consumer.subscription.handlers.clear()
    await consumer._handle(_record(_event_bytes()[1]))
    assert inbox.marked == [] and producer.sent == []


async def test_shutdown_interrupts_retries_so_the_event_is_redelivered():
    stopping = asyncio.Event()

    async def failing(envelope, payload):
        stopping.set()
        raise ConnectionError("down")

    consumer, inbox, producer = _consumer(failing, stopping=stopping)
    with pytest.raises(ShuttingDown):
        await consumer._handle(_record(_event_bytes()[1]))
    assert inbox.marked == [] and producer.sent == []


def test_backoff_doubles_up_to_its_cap():
    policy = RetryPolicy(max_retries=10, backoff=0.1, backoff_max=0.5)
    assert [policy.delay(a) for a in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]
