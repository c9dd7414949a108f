"""Reliable event consumption on top of FastStream batch subscribers (manual offsets).

Each poll hands over up to `max_records` records (`getmany`); for that batch, in order:
parse the envelopes (malformed ones go to `<topic>.dlq`) → claim the events in the group's
inbox in ONE insert (duplicates skipped, see `inbox.py`) → decode the payloads → run the
handlers: consecutive events served by the same *batch handler* are folded in one call (one
write per document), others go one by one → only then record the offsets, committed in one
request. A failing batch call is retried event by event with the usual bounded retries and
back-off, so a poison event lands alone in the DLQ with its error while the events around it
are handled, in order per key. Offsets are committed explicitly (never "whatever was
fetched"), so a crash can only replay events, which the inbox and idempotent handlers absorb:
nothing is dropped silently and no effect happens twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaMessage, KafkaRouter
from faststream.middlewares import AckPolicy
from pydantic import ValidationError

from chorale_contracts import Envelope, Topic, decode_payload, dlq_topic, topic_name
from chorale_contracts.registry import UnknownEventType, UnsupportedSchemaVersion
from chorale_runtime import metrics
from chorale_runtime.inbox import Claim, Inbox
from chorale_runtime.kafka import OutgoingMessage, Producer
from chorale_runtime.logging import bound_contextvars, get_logger
from chorale_runtime.retry import RetryPolicy

log = get_logger(__name__)

EventHandler = Callable[[Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class Incoming:
    """One decoded event of a batch and the record it came from: batch handlers that count
    (not idempotent by nature) keep per-partition offset watermarks with `source`/`offset`."""

    envelope: Envelope
    payload: Any
    topic: str
    partition: int
    offset: int

    @property
    def source(self) -> str:
        return f"{self.topic}|{self.partition}"


BatchHandler = Callable[[Sequence[Incoming]], Awaitable[None]]


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (bad data): the event goes to the DLQ."""


class ShuttingDown(Exception):
    """Handling was interrupted by shutdown; the event will be delivered again."""


@dataclass
class Subscription:
    """A consumer group of a service: the topics it reads and a handler per event type.
    Event types without a handler are acknowledged and ignored (tolerant reader).

    `batch_handlers` (optional) fold many events in one call: consecutive events of a poll
    whose types map to the same batch handler are handed over together, in order, so the
    handler can write once per document. A batch handler must be idempotent, like any
    handler, and is called again with single events when a batch call fails.

    `wants` (optional): a cheap test on the envelope (payload not decoded yet); events it
    refuses are ignored like events without a handler, before de-duplication (a group that
    cares for one status out of four does not claim the other three)."""

    name: str
    topics: tuple[Topic, ...]
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    description: str = ""
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    wants: Callable[[Envelope], bool] | None = None

    def handles(self, envelope: Envelope) -> bool:
        event_type = envelope.event_type
        if event_type not in self.handlers and event_type not in self.batch_handlers:
            return False
        return self.wants is None or self.wants(envelope)


@dataclass
class _Offsets:
    """Offsets whose effects are stored, waiting to be committed in one request."""

    done: dict[TopicPartition, int] = field(default_factory=dict)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)

    def record(self, tp: TopicPartition, next_offset: int) -> None:
        if next_offset > self.done.get(tp, -1):
            self.done[tp] = next_offset

    def pending(self) -> dict[TopicPartition, int]:
        return {tp: o for tp, o in self.done.items() if self.committed.get(tp) != o}


@dataclass
class _Item:
    """A record of the batch being handled, and how far it got."""

    record: ConsumerRecord
    envelope: Envelope | None = None
    incoming: Incoming | None = None
    settled: bool = False

    @property
    def event_type(self) -> str:
        return self.envelope.event_type if self.envelope else "?"


class ReliableConsumer:
    def __init__(
        self,
        subscription: Subscription,
        *,
        service: str,
        topic_prefix: str,
        inbox: Inbox,
        producer: Producer,
        retry: RetryPolicy,
        stopping: asyncio.Event,
        commit_every: int = 1000,
        commit_interval: float = 0.2,
        max_records: int = 1000,
        catch_up_grace: float = 20.0,
    ):
        self.subscription = subscription
        self.service = service
        self.group_id = f"{topic_prefix}chorale-{service}-{subscription.name}"
        self.physical_topics = [topic_name(t, topic_prefix) for t in subscription.topics]
        self._inbox = inbox
        self._producer = producer
        self._retry = retry
        self._stopping = stopping
        self._commit_every = commit_every
        self._commit_interval = commit_interval
        self._max_records = max_records
        self._catch_up_grace = catch_up_grace
        self._assigned_at: float | None = None
        self._offsets = _Offsets()
        self._uncommitted = 0
        self._lock = asyncio.Lock()
        self.subscriber: Any = None
        self.caught_up = False

    # -- FastStream wiring -------------------------------------------------------------
    def register(self, router: KafkaRouter) -> None:
        self.subscriber = router.subscriber(
            *self.physical_topics,
            group_id=self.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self._max_records,
            batch_timeout_ms=100,
            decoder=_raw_body,
            listener=_CommitOnRevoke(self),
            title=f"{self.service}:{self.subscription.name}",
            description=self.subscription.description or None,
        )
        self.subscriber(self.on_batch)

    @property
    def consumer(self) -> Any:
        return getattr(self.subscriber, "consumer", None)

    async def on_batch(self, body: Any, message: KafkaMessage) -> None:
        raw = message.raw_message
        records: tuple[ConsumerRecord, ...] = raw if isinstance(raw, tuple) else (raw,)
        if not records:
            return
        items = [_Item(r) for r in records]
        trouble = False
        try:
            await self.handle_batch(items)
        except ShuttingDown:
            pass
        except Exception as exc:  # could not even park it (DLQ or database down): try again
            log.error("batch_not_settled", error=str(exc), error_type=type(exc).__name__,
                      consumer=self.subscription.name, records=len(items))
            trouble = True
        settled = self._settle_offsets(items)
        self._uncommitted += settled
        if (
            self._uncommitted >= self._commit_every
            or time.monotonic() - self._offsets.since >= self._commit_interval
        ):
            await self.commit()
        if trouble:
            await asyncio.sleep(self._retry.backoff_max)

    def _settle_offsets(self, items: Sequence[_Item]) -> int:
        """Record, per partition, the offset up to which every record is settled; rewind the
        partition to its first unsettled record (delivered again by the next poll)."""
        by_partition: dict[TopicPartition, list[_Item]] = {}
        for item in items:
            tp = TopicPartition(item.record.topic, item.record.partition)
            by_partition.setdefault(tp, []).append(item)
        settled = 0
        for tp, group in by_partition.items():
            group.sort(key=lambda i: i.record.offset)
            first_open = next((i for i in group if not i.settled), None)
            if first_open is None:
                self._offsets.record(tp, group[-1].record.offset + 1)
                settled += len(group)
                continue
            self._offsets.record(tp, first_open.record.offset)
            settled += sum(1 for i in group if i.record.offset < first_open.record.offset)
            consumer = self.consumer
            if consumer is not None:
                with contextlib.suppress(Exception):  # revoked meanwhile: its new owner reads
                    consumer.seek(tp, first_open.record.offset)
        return settled

    # -- the batch algorithm -----------------------------------------------------------
    async def handle_batch(self, items: Sequence[_Item]) -> None:
        with bound_contextvars(consumer=self.subscription.name):
            await self._parse(items)
            await self._claim(items)
            await self._decode(items)
            await self._run(items)

    async def _parse(self, items: Sequence[_Item]) -> None:
        for item in items:
            try:
                envelope = Envelope.parse_incoming(item.record.value)
            except (ValidationError, ValueError) as exc:
                await self._park(item.record, exc, attempts=1, event_type="?")
                item.settled = True
                continue
            if not self.subscription.handles(envelope):
                self._count(item.record.topic, envelope.event_type, "ignored")
                item.settled = True
                continue
            item.envelope = envelope

    async def _claim(self, items: Sequence[_Item]) -> None:
        first: dict[str, _Item] = {}
        for item in items:
            if item.settled or item.envelope is None:
                continue
            event_id = str(item.envelope.event_id)
            if event_id in first:  # published twice, both copies in this poll
                self._duplicate(item)
            else:
                first[event_id] = item
        taken = await self._inbox.claim([
            Claim(event_id, item.event_type,
                  f"{item.record.topic}|{item.record.partition}|{item.record.offset}")
            for event_id, item in first.items()
        ])
        for event_id, item in first.items():
            if event_id not in taken:
                self._duplicate(item)

    def _duplicate(self, item: _Item) -> None:
        self._count(item.record.topic, item.event_type, "duplicate")
        item.settled = True

    async def _decode(self, items: Sequence[_Item]) -> None:
        for item in items:
            if item.settled or item.envelope is None:
                continue
            envelope, record = item.envelope, item.record
            try:
                payload = decode_payload(
                    envelope.event_type, envelope.schema_version, envelope.payload
                )
            except (ValidationError, UnknownEventType, UnsupportedSchemaVersion) as exc:
                await self._park(record, exc, attempts=1, event_type=envelope.event_type)
                item.settled = True
                continue
            item.incoming = Incoming(envelope, payload, record.topic, record.partition,
                                     record.offset)

    async def _run(self, items: Sequence[_Item]) -> None:
        """In poll order (which keeps each partition's order): runs of consecutive events
        served by one batch handler in one call, the others one by one."""
        todo = [i for i in items if not i.settled]
        batch_handlers = self.subscription.batch_handlers
        start = 0
        while start < len(todo):
            folder = batch_handlers.get(todo[start].event_type)
            end = start + 1
            if folder is not None:
                while end < len(todo) and batch_handlers.get(todo[end].event_type) is folder:
                    end += 1
                await self._run_folded(folder, todo[start:end])
            else:
                item = todo[start]
                assert item.incoming is not None
                handler = self.subscription.handlers[item.event_type]
                envelope, payload = item.incoming.envelope, item.incoming.payload
                await self._run_one(item, functools.partial(handler, envelope, payload))
            start = end

    async def _run_folded(self, folder: BatchHandler, run: Sequence[_Item]) -> None:
        events = [i.incoming for i in run if i.incoming is not None]
        if len(run) > 1:
            try:
                await folder(events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                metrics.EVENTS_FAILED.labels(self.service, run[0].record.topic).inc()
                if self._stopping.is_set():
                    raise ShuttingDown() from exc
                log.warning("batch_handler_failed_one_by_one", events=len(run),
                            error=str(exc)[:500], error_type=type(exc).__name__)
            else:
                for item in run:
                    item.settled = True
                    self._count(item.record.topic, item.event_type, "processed")
                return
        for item in run:  # isolates a poison event; the others keep their order
            assert item.incoming is not None
            await self._run_one(item, functools.partial(folder, [item.incoming]))

    async def _run_one(self, item: _Item, call: Callable[[], Awaitable[None]]) -> None:
        """One event with bounded retries and back-off, then the DLQ."""
        assert item.envelope is not None
        record, envelope = item.record, item.envelope
        with bound_contextvars(
            correlation_id=envelope.correlation_id, event_id=str(envelope.event_id),
            event_type=envelope.event_type,
        ):
            attempt = 0
            while True:
                attempt += 1
                try:
                    await call()
                    break
                except PermanentError as exc:
                    await self._park(record, exc, attempt, envelope.event_type)
                    item.settled = True
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    metrics.EVENTS_FAILED.labels(self.service, record.topic).inc()
                    if attempt > self._retry.max_retries:
                        await self._park(record, exc, attempt, envelope.event_type)
                        item.settled = True
                        return
                    delay = self._retry.delay(attempt)
                    log.warning("event_handler_retry", attempt=attempt, delay=delay,
                                error=str(exc), error_type=type(exc).__name__)
                    if self._stopping.is_set():
                        raise ShuttingDown() from exc
                    await asyncio.sleep(delay)
            item.settled = True
            self._count(record.topic, envelope.event_type, "processed")

    def _count(self, topic: str, event_type: str, outcome: str) -> None:
        metrics.EVENTS_CONSUMED.labels(self.service, topic, event_type, outcome).inc()

    async def _park(
        self, record: ConsumerRecord, exc: BaseException, attempts: int, event_type: str
    ) -> None:
        headers = [
            *[(k, v) for k, v in (record.headers or ())],
            ("x-error", str(exc)[:2000].encode()),
            ("x-error-type", type(exc).__name__.encode()),
            ("x-original-topic", record.topic.encode()),
            ("x-original-partition", str(record.partition).encode()),
            ("x-original-offset", str(record.offset).encode()),
            ("x-consumer-group", self.group_id.encode()),
            ("x-attempts", str(attempts).encode()),
            ("x-failed-at", datetime.now(UTC).isoformat().encode()),
        ]
        await self._producer.send(
            OutgoingMessage(
                topic=dlq_topic(record.topic),
                key=record.key or b"",
                value=record.value or b"",
                headers=tuple(headers),
            )
        )
        metrics.DLQ_PUBLISHED.labels(self.service, record.topic).inc()
        self._count(record.topic, event_type, "dead_lettered")
        log.error("event_dead_lettered", topic=record.topic, offset=record.offset,
                  error=str(exc)[:500], error_type=type(exc).__name__, attempts=attempts)

    # -- offsets --------------------------------------------------------------------------
    async def commit(self) -> None:
        async with self._lock:
            pending = self._offsets.pending()
            consumer = self.consumer
            if not pending or consumer is None:
                return
            assigned = consumer.assignment()
            offsets = {tp: o for tp, o in pending.items() if tp in assigned}
            try:
                if offsets:
                    await consumer.commit(offsets)
            except Exception as exc:  # rebalance in progress: the events will be replayed
                log.warning("offset_commit_failed", error=str(exc))
            else:
                self._offsets.committed.update(offsets)
            for tp in pending:
                if tp not in assigned:
                    self._offsets.done.pop(tp, None)
            self._uncommitted = 0
            self._offsets.since = time.monotonic()

    async def lag(self) -> dict[str, int] | None:
        """Messages left per topic for this group's assigned partitions (None before start)."""
        consumer = self.consumer
        if consumer is None:
            return None
        assigned = list(consumer.assignment())
        if not assigned:
            return None
        ends = await consumer.end_offsets(assigned)
        lag: dict[str, int] = {}
        for tp in assigned:
            position = self._offsets.done.get(tp)
            if position is None:
                position = await consumer.committed(tp) or 0
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, ends[tp] - position)
        if all(v == 0 for v in lag.values()):
            self.caught_up = True
        return lag


    async def readiness(self) -> tuple[bool, str]:
        """Ready once caught up with its topics, or once it has been catching up for the grace
        period: a read model replaying a long history then serves what it has, and its lag
        is reported (here and in `chorale_consumer_lag`) instead of holding the service back."""
        if self.caught_up:
            return True, "à jour"
        lag = await self.lag()
        if lag is None:
            return False, "non assigné"
        if self.caught_up:
            return True, "à jour"
        now = time.monotonic()
        if self._assigned_at is None:
            self._assigned_at = now
        if now - self._assigned_at >= self._catch_up_grace:
            return True, f"en rattrapage : {lag}"
        return False, f"en rattrapage : {lag}"

    async def dlq_sizes(self) -> dict[str, int]:
        """Messages held in the dead-letter topic of each topic this group reads (retention
        permitting): end minus beginning offsets, summed over partitions."""
        consumer = self.consumer
        if consumer is None:
            return {}
        client = consumer._client  # aiokafka has no public offset query for unsubscribed topics
        sizes: dict[str, int] = {}
        for topic in self.physical_topics:
            dlq = dlq_topic(topic)
            partitions = client.cluster.partitions_for_topic(dlq)
            if partitions is None:
                client.add_topic(dlq)
                await client.force_metadata_update()
                partitions = client.cluster.partitions_for_topic(dlq) or set()
            tps = [TopicPartition(dlq, p) for p in partitions]
            if not tps:
                continue
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            sizes[dlq] = sum(ends[tp] - starts[tp] for tp in tps)
        return sizes


async def read_models_readiness(consumers: Sequence[ReliableConsumer]) -> tuple[bool, str]:
    """The `read_models` check of /ready: every consumer group ready (see `readiness`), the
    lag of those catching up in the detail."""
    ok, details = True, []
    for consumer in consumers:
        ready, detail = await consumer.readiness()
        ok = ok and ready
        if detail != "à jour":
            details.append(f"{consumer.subscription.name}: {detail}")
    return ok, "; ".join(details) or "ok"


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, owner: ReliableConsumer):
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._owner.commit()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        return None


async def _raw_body(message: Any) -> Any:
    """Hand the handler the raw bytes: parsing is ours, so a bad message cannot slip past."""
    return message.body
