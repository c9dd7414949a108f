"""Kafka plumbing: the idempotent producer every service publishes with, and topic creation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner, murmur2

from chorale_contracts.topics import COMPACTED, Topic, dlq_topic, topic_name
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

Header = tuple[str, bytes]


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: bytes
    value: bytes
    headers: tuple[Header, ...] = ()


class KeyHashCache:
    """aiokafka's default partitioner (murmur2, as the Java client: same key, same partition),
    remembering the hashes of the latest keys. Its murmur2 is pure Python, some 10 µs a key,
    and a key comes back several times: every status of a flow is published under the flow's
    number. Bounded: forgotten wholesale past `size` keys."""

    def __init__(self, size: int = 16384):
        self._size = size
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return DefaultPartitioner()(key, all_partitions, available)
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._size:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


class Producer:
    """An idempotent, acks=all producer (DESIGN.md §3). `send_batch` returns once every message
    is acknowledged by the broker, preserving order per partition."""

    def __init__(self, bootstrap_servers: str, client_id: str, *, linger_ms: int = 10,
                 max_batch_bytes: int = 256 * 1024):
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._max_batch_bytes = max_batch_bytes
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = KeyHashCache()
        self._started = False

    async def start(self) -> None:
        # aiokafka binds to the running loop, so the client is made here, not in __init__.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=self._linger_ms,
            max_batch_size=self._max_batch_bytes,
            request_timeout_ms=15_000,
            partitioner=self._partitioner,
        )
        await self._producer.start()
        self._started = True

    async def ensure_started(self) -> None:
        """Start unless started (a producer started at its first use)."""
        if not self._started:
            await self.start()

    async def stop(self) -> None:
        if self._started and self._producer is not None:
            await self._producer.flush()
            await self._producer.stop()
            self._started = False

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        """Messages are grouped by partition (the partitioner of `send`) and handed over as
        record batches: one future per batch instead of one coroutine and one future per
        message, the larger cost of publishing in the intake. In order within a partition."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("producer not started")
        groups: dict[tuple[str, int], list[OutgoingMessage]] = {}
        partitions: dict[str, list[int]] = {}
        for m in messages:
            if m.topic not in partitions:
                partitions[m.topic] = sorted(await producer.partitions_for(m.topic))
            every = partitions[m.topic]
            groups.setdefault((m.topic, self._partitioner(m.key, every, every)), []).append(m)
        futures = []
        for (topic, partition), group in groups.items():
            batch = producer.create_batch()
            for m in group:
                record = {"key": m.key, "value": m.value, "timestamp": None,
                          "headers": list(m.headers)}
                if batch.append(**record) is None:  # full: send it, start another
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(**record)  # an empty batch takes any message
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        if futures:
            await asyncio.gather(*futures)

    async def send(self, message: OutgoingMessage) -> None:
        await self.send_batch([message])

    async def ready(self) -> bool:
        if not self._started or self._producer is None:
            return False
        try:
            await asyncio.wait_for(self._producer.client.force_metadata_update(), 5)
            return True
        except Exception:
            return False


def physical_topics(logical: Iterable[Topic], prefix: str, with_dlq: bool) -> dict[str, dict]:
    """Physical name → topic config for the logical topics a service touches."""
    out: dict[str, dict] = {}
    for topic in logical:
        name = topic_name(topic, prefix)
        out[name] = {"cleanup.policy": "compact"} if topic in COMPACTED else {}
        if with_dlq:
            out[dlq_topic(name)] = {}
    return out


async def ensure_topics(
    bootstrap_servers: str, topics: dict[str, dict], partitions: int = 3, client_id: str = "admin"
) -> None:
    """Create missing topics (idempotent); compaction where the contract asks for it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=config)
            for name, config in topics.items()
            if name not in existing
        ]
        if not missing:
            return
        try:
            await admin.create_topics(missing)
        except TopicAlreadyExistsError:
            pass  # another process created them first
        log.info("topics_created", topics=[t.name for t in missing])
    finally:
        await admin.close()
