"""Read what services published, straight from Kafka, as a user of the topics would."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from chorale_contracts import Envelope


async def collect(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Envelope]], bool],
    timeout: float = 30,
) -> list[Envelope]:
    """Consume `topic` from the beginning until `until(events)` holds; fail on timeout."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"probe-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    events: list[Envelope] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met on {topic} after {timeout}s; got "
                    f"{[e.event_type for e in events]}"
                )
            batches = await consumer.getmany(timeout_ms=int(min(remaining, 0.5) * 1000))
            for records in batches.values():
                events.extend(Envelope.parse_incoming(r.value) for r in records)
        return events
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], object], timeout: float = 20, interval: float = 0.1):
    """Poll an async or sync check until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"condition not met after {timeout}s (last: {last!r})")


async def while_progressing(check: Callable[[], object], progress: Callable[[], object],
                            stall: float = 60, interval: float = 0.2):
    """Poll `check` until it returns a truthy value, for as long as work moves: fail only when
    `progress()` (any measure of the work done: a count, a tuple of counts) has not changed
    for `stall` seconds. For volumes of work whose duration depends on the machine."""
    last_progress: object = None
    moved_at = time.monotonic()
    last: object = None
    while True:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        now_progress = progress()
        if asyncio.iscoroutine(now_progress):
            now_progress = await now_progress
        if now_progress != last_progress:
            last_progress, moved_at = now_progress, time.monotonic()
        elif time.monotonic() - moved_at > stall:
            raise TimeoutError(f"no progress for {stall}s (at {last_progress!r}; last: {last!r})")
        await asyncio.sleep(interval)
