"""Reliable event consumption on top of FastStream subscribers (manual acknowledgement).

For each message, in order: parse the envelope → skip it if this group already handled its
`event_id` → run the handler with bounded retries and exponential back-off → on a permanent
error or once retries are exhausted, park the raw message in `<topic>.dlq` with the error in
its headers → mark the event handled → only then let its offset be committed. Offsets are
committed explicitly (never "whatever was fetched"), so a crash can only replay events, which
the de-duplication absorbs: nothing is dropped silently and no effect happens twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
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
from chorale_runtime.inbox import Inbox
from chorale_runtime.kafka import OutgoingMessage, Producer
from chorale_runtime.logging import bound_contextvars, get_logger

log = get_logger(__name__)

EventHandler = Callable[[Envelope, Any], Awaitable[None]]


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (bad data): the event goes to the DLQ."""


class ShuttingDown(Exception):
    """Handling was interrupted by shutdown; the event will be delivered again."""


@dataclass
class Subscription:
    """A consumer group of a service: the topics it reads and a handler per event type.
    Event types without a handler are acknowledged and ignored (tolerant reader)."""

    name: str
    topics: tuple[Topic, ...]
    handlers: dict[str, EventHandler]
    description: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff: float = 0.2
    backoff_max: float = 5.0

    def delay(self, attempt: int) -> float:
        return min(self.backoff * (2 ** (attempt - 1)), self.backoff_max)


@dataclass
class _Offsets:
    """Offsets whose effects are stored, waiting to be committed in one request."""

    done: dict[TopicPartition, int] = field(default_factory=dict)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)

    def record(self, record: ConsumerRecord) -> None:
        self.done[TopicPartition(record.topic, record.partition)] = record.offset + 1

    def pending(self) -> dict[TopicPartition, int]:
        return {tp: o for tp, o in self.done.items() if self.committed.get(tp) != o}


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
        commit_every: int = 100,
        commit_interval: float = 0.2,
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
            decoder=_raw_body,
            listener=_CommitOnRevoke(self),
            title=f"{self.service}:{self.subscription.name}",
            description=self.subscription.description or None,
        )
        self.subscriber(self.on_message)

    @property
    def consumer(self) -> Any:
        return getattr(self.subscriber, "consumer", None)

    async def on_message(self, body: Any, message: KafkaMessage) -> None:
        record: ConsumerRecord = message.raw_message  # type: ignore[assignment]
        try:
            await self._handle(record)
        except ShuttingDown:
            await message.nack()
            return
        except Exception as exc:  # could not even park it (DLQ or database down): try again
            log.error("event_not_settled", error=str(exc), topic=record.topic,
                      offset=record.offset)
            await message.nack()
            await asyncio.sleep(self._retry.backoff_max)
            return
        self._offsets.record(record)
        self._uncommitted += 1
        if (
            self._uncommitted >= self._commit_every
            or time.monotonic() - self._offsets.since >= self._commit_interval
        ):
            await self.commit()

    # -- the per-event algorithm ---------------------------------------------------------
    async def _handle(self, record: ConsumerRecord) -> None:
        topic = record.topic
        try:
            envelope = Envelope.parse_incoming(record.value)
        except (ValidationError, ValueError) as exc:
            await self._park(record, exc, attempts=1, event_type="?")
            return
        handler = self.subscription.handlers.get(envelope.event_type)
        if handler is None:
            metrics.EVENTS_CONSUMED.labels(
                self.service, topic, envelope.event_type, "ignored").inc()
            return
        event_id = str(envelope.event_id)
        with bound_contextvars(
            correlation_id=envelope.correlation_id, event_id=event_id,
            event_type=envelope.event_type, consumer=self.subscription.name,
        ):
            if await self._inbox.seen(event_id):
                metrics.EVENTS_CONSUMED.labels(
                    self.service, topic, envelope.event_type, "duplicate").inc()
                log.debug("event_duplicate_skipped")
                return
            try:
                payload = decode_payload(
                    envelope.event_type, envelope.schema_version, envelope.payload
                )
            except (ValidationError, UnknownEventType, UnsupportedSchemaVersion) as exc:
                await self._park(record, exc, attempts=1, event_type=envelope.event_type)
                return
            attempt = 0
            while True:
                attempt += 1
                try:
                    await handler(envelope, payload)
                    break
                except PermanentError as exc:
                    await self._park(record, exc, attempt, envelope.event_type)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    metrics.EVENTS_FAILED.labels(self.service, topic).inc()
                    if attempt > self._retry.max_retries:
                        await self._park(record, exc, attempt, envelope.event_type)
                        break
                    delay = self._retry.delay(attempt)
                    log.warning("event_handler_retry", attempt=attempt, delay=delay,
                                error=str(exc), error_type=type(exc).__name__)
                    if self._stopping.is_set():
                        raise ShuttingDown() from exc
                    await asyncio.sleep(delay)
            await self._inbox.mark(event_id, envelope.event_type)
            metrics.EVENTS_CONSUMED.labels(self.service, topic, envelope.event_type,
                                           "processed").inc()

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
        metrics.EVENTS_CONSUMED.labels(self.service, record.topic, event_type,
                                       "dead_lettered").inc()
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
