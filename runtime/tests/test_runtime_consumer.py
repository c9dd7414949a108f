"""The batch algorithm of ReliableConsumer, with in-memory fakes for the inbox, the producer and
the Kafka consumer (the real broker and database are exercised by tests/integration)."""

import asyncio

import pytest
from aiokafka import ConsumerRecord

from chorale_contracts import Topic, new_envelope
from chorale_contracts.events.structures import StructureCreated
from chorale_runtime.consumer import (
    PermanentError,
    ReliableConsumer,
    ShuttingDown,
    Subscription,
    _Item,
)
from chorale_runtime.retry import RetryPolicy


class FakeInbox:
    """The real inbox's rules: a claim is refused if the event was claimed before, unless
    by the very same record (an interrupted run)."""

    def __init__(self):
        self.claims: dict[str, str] = {}
        self.round_trips = 0

    @property
    def marked(self) -> list[str]:
        return list(self.claims)

    async def claim(self, claims):
        self.round_trips += 1
        taken = set()
        for c in claims:
            held = self.claims.setdefault(c.event_id, c.source)
            if held == c.source:
                taken.add(c.event_id)
        return taken


class FakeProducer:
    def __init__(self):
        self.sent = []

    async def send(self, message):
        self.sent.append(message)


def _record(value: bytes, offset: int = 7, partition: int = 1) -> ConsumerRecord:
    return ConsumerRecord(
        topic="p.chorale.structures.v1", partition=partition, offset=offset, timestamp=0,
        timestamp_type=0, key=b"k", value=value, checksum=None, serialized_key_size=1,
        serialized_value_size=len(value), headers=[("event_id", b"x")],
    )


def _event_bytes(name: str = "ACME"):
    env = new_envelope(
        StructureCreated(identifiant="1", typeIdentifiant="SIRET", typeStructure="PRIVEE",
                         raisonSociale=name),
        key="1", producer="structures",
    )
    return env, env.to_bytes()


async def handle(consumer, *records) -> list[_Item]:
    items = [_Item(r) for r in records]
    await consumer.handle_batch(items)
    return items


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
    await handle(consumer, _record(raw))
    await handle(consumer, _record(raw, offset=8))  # same event re-published
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
    await handle(consumer, _record(_event_bytes()[1]))
    assert len(attempts) == 3
    assert len(inbox.marked) == 1
    assert producer.sent == []


async def test_exhausted_retries_park_the_raw_event_in_the_dlq_with_the_error():
    async def broken(envelope, payload):
        raise ConnectionError("still down")

    consumer, inbox, producer = _consumer(broken, retries=2)
    _, raw = _event_bytes()
    await handle(consumer, _record(raw))
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
    await handle(consumer, _record(_event_bytes()[1]))
    assert len(attempts) == 1
    assert dict(producer.sent[0].headers)["x-error-type"] == b"PermanentError"


async def test_a_malformed_message_goes_to_the_dlq_without_calling_the_handler():
    async def handler(envelope, payload):
        raise AssertionError("must not be called")

    consumer, inbox, producer = _consumer(handler)
    await handle(consumer, _record(b"{not json"))
    assert producer.sent[0].value == b"{not json"
    assert inbox.marked == []


async def test_an_invalid_payload_is_parked():
    async def handler(envelope, payload):
        raise AssertionError("must not be called")

    consumer, _, producer = _consumer(handler)
    env, _ = _event_bytes()
    broken = env.model_copy(update={"payload": {"identifiant": "1"}}).to_bytes()
    await handle(consumer, _record(broken))
    assert dict(producer.sent[0].headers)["x-error-type"] == b"ValidationError"


async def test_events_without_a_handler_are_ignored():
    consumer, inbox, producer = _consumer(None)
    consumer.subscription.handlers.clear()
    await handle(consumer, _record(_event_bytes()[1]))
    assert inbox.marked == [] and producer.sent == []


async def test_shutdown_interrupts_retries_so_the_event_is_redelivered_and_handled():
    stopping = asyncio.Event()
    calls = []

    async def failing_then_fine(envelope, payload):
        calls.append(1)
        if len(calls) == 1:
            stopping.set()
            raise ConnectionError("down")

    consumer, _, producer = _consumer(failing_then_fine, stopping=stopping)
    record = _record(_event_bytes()[1])
    items = [_Item(record)]
    with pytest.raises(ShuttingDown):
        await consumer.handle_batch(items)
    assert not items[0].settled and producer.sent == []
    # The next run gets the same record again: its claim is its own, so it is handled.
    stopping.clear()
    [again] = await handle(consumer, record)
    assert again.settled and len(calls) == 2


def test_backoff_doubles_up_to_its_cap():
    policy = RetryPolicy(max_retries=10, backoff=0.1, backoff_max=0.5)
    assert [policy.delay(a) for a in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]


# -- batches ------------------------------------------------------------------------------


class FakeKafkaConsumer:
    def __init__(self):
        self.seeks = []

    def seek(self, tp, offset):
        self.seeks.append((tp.partition, offset))


def _batch_consumer(fold, *, retries=2, inbox=None, stopping=None):
    inbox, producer = inbox or FakeInbox(), FakeProducer()
    consumer = ReliableConsumer(
        Subscription("test", (Topic.STRUCTURES,),
                     batch_handlers={"structure.created": fold}),
        service="svc", topic_prefix="p.", inbox=inbox, producer=producer,
        retry=RetryPolicy(retries, 0.001, 0.002), stopping=stopping or asyncio.Event(),
    )
    return consumer, inbox, producer


async def test_a_batch_is_deduplicated_in_one_claim_and_folded_in_one_call():
    calls = []

    async def fold(events):
        calls.append([e.payload.raisonSociale for e in events])

    consumer, inbox, _ = _batch_consumer(fold)
    _, old = _event_bytes("ANCIEN")
    await handle(consumer, _record(old, offset=1))
    a, b = _event_bytes("A")[1], _event_bytes("B")[1]
    items = await handle(consumer, _record(old, offset=2),  # published again later
                         _record(a, offset=3), _record(a, offset=4),  # twice in the poll
                         _record(b, offset=5))
    assert calls == [["ANCIEN"], ["A", "B"]]
    assert inbox.round_trips == 2  # one claim per poll
    assert all(i.settled for i in items)


async def test_a_poison_event_in_the_middle_of_a_batch_goes_alone_to_the_dlq_in_order():
    handled = []

    async def fold(events):
        if any(e.payload.raisonSociale == "POISON" for e in events):
            raise ValueError("cannot fold POISON")
        handled.extend(e.payload.raisonSociale for e in events)

    consumer, _, producer = _batch_consumer(fold)
    names = ["A", "B", "POISON", "C", "D"]
    records = [_record(_event_bytes(n)[1], offset=10 + i) for i, n in enumerate(names)]
    items = await handle(consumer, *records)
    assert handled == ["A", "B", "C", "D"]  # the others, in their order
    [parked] = producer.sent
    assert dict(parked.headers)["x-original-offset"] == b"12"
    assert dict(parked.headers)["x-error"] == b"cannot fold POISON"
    assert all(i.settled for i in items)


async def test_a_crash_between_the_batch_effect_and_the_commit_replays_without_a_second_effect():
    # A counter kept idempotent the way read models do it: a watermark per partition.
    store = {"count": 0, "watermark": -1}
    calls = []

    async def fold(events):
        calls.append(len(events))
        fresh = [e for e in events if e.offset > store["watermark"]]
        store["count"] += len(fresh)
        store["watermark"] = max([store["watermark"], *(e.offset for e in events)])

    inbox = FakeInbox()
    records = [_record(_event_bytes(n)[1], offset=20 + i) for i, n in enumerate("XYZ")]
    first, _, _ = _batch_consumer(fold, inbox=inbox)
    await handle(first, *records)  # effects stored... then the process dies: no commit
    restarted, _, _ = _batch_consumer(fold, inbox=inbox)
    republished = _record(records[0].value, offset=40)  # and the relay published X again
    items = await handle(restarted, *records, republished)
    assert calls == [3, 3]  # the replayed records are handled again, the copy is not
    assert store["count"] == 3  # one effect each
    assert all(i.settled for i in items)


async def test_offsets_stop_at_the_first_unsettled_record_of_each_partition():
    consumer, _, _ = _batch_consumer(None)
    fake = FakeKafkaConsumer()
    consumer.subscriber = type("S", (), {"consumer": fake})()
    items = [_Item(_record(b"", offset=o, partition=p)) for p, o in
             [(0, 5), (0, 6), (0, 7), (1, 3), (1, 4)]]
    for item in items:
        item.settled = True
    items[1].settled = False  # partition 0, offset 6 was interrupted
    consumer._settle_offsets(items)
    assert {tp.partition: o for tp, o in consumer._offsets.done.items()} == {0: 6, 1: 5}
    assert fake.seeks == [(0, 6)]


async def test_a_consumer_catching_up_is_ready_after_its_grace_with_its_lag_reported():
    consumer, _, _ = _batch_consumer(None)
    consumer._catch_up_grace = 0.05
    lags = [None, {"p.chorale.flows.v1": 683}, {"p.chorale.flows.v1": 120}]

    async def lag():
        return lags.pop(0) if len(lags) > 1 else lags[0]

    consumer.lag = lag
    assert await consumer.readiness() == (False, "non assigné")
    ready, detail = await consumer.readiness()
    assert not ready and "683" in detail  # catching up, within its grace
    await asyncio.sleep(0.06)
    ready, detail = await consumer.readiness()
    assert ready and detail == "en rattrapage : {'p.chorale.flows.v1': 120}"
