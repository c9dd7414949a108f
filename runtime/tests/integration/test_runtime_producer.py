"""The shared producer on the real broker: every message of a batch arrives once, on the
partition the Java-compatible partitioner picks, in order per key, headers intact, including
messages that fill record batches past their size."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner

from chorale_runtime.kafka import OutgoingMessage, Producer, ensure_topics

pytestmark = pytest.mark.integration


async def read_all(bootstrap: str, topics: list[str], count: int, timeout: float = 60) -> list:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap,
                                group_id=f"probe-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batches.values() for r in rs)
        await asyncio.sleep(0.5)  # anything beyond `count` would show up now
        batches = await consumer.getmany(timeout_ms=200)
        records.extend(r for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()
    return records


async def test_a_batch_arrives_whole_in_order_per_key_on_the_java_partition(infra, namespace):
    topics = [f"{namespace.topic_prefix}producer.a", f"{namespace.topic_prefix}producer.b"]
    await ensure_topics(infra.kafka_bootstrap, {t: {} for t in topics}, partitions=3)
    producer = Producer(infra.kafka_bootstrap, "test-producer")
    await producer.start()
    big = b"x" * 120_000  # three of them overflow one 256 KiB record batch
    messages = []
    for i in range(900):
        key = f"K{i % 30:02d}".encode()
        value = big + str(i).encode() if i in (10, 40, 70, 100) else f"v{i}".encode()
        messages.append(OutgoingMessage(topic=topics[i % 2], key=key, value=value,
                                        headers=(("seq", str(i).encode()),)))
    try:
        await producer.send_batch(messages[:450])
        await producer.send_batch(messages[450:])
    finally:
        await producer.stop()

    records = await read_all(infra.kafka_bootstrap, topics, len(messages))
    seqs = [int(dict(r.headers)["seq"]) for r in records]
    assert sorted(seqs) == list(range(len(messages)))  # each once
    for record in records:
        sent = messages[int(dict(record.headers)["seq"])]
        assert (record.topic, record.key, record.value) == (sent.topic, sent.key, sent.value)
        assert record.partition == DefaultPartitioner()(record.key, [0, 1, 2], [0, 1, 2])
    for topic in topics:
        for key in {m.key for m in messages}:
            order = [int(dict(r.headers)["seq"]) for r in records
                     if r.topic == topic and r.key == key]
            assert order == sorted(order)
