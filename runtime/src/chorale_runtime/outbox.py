"""Transactional outbox kept inside each aggregate's own document (DESIGN.md §3).

A state change and the events it causes are written by one single-document update (atomic even
on FerretDB, which has no multi-document transactions): the update pushes the envelopes onto the
document's `outbox` array. The relay then publishes them to Kafka with the idempotent producer
and pulls them off. A crash after publishing but before pulling republishes the same envelopes
(same `event_id`), which consumers de-duplicate: nothing is lost, and no effect happens twice.

Writers call `relay.notify(collection, id)` after their write so events leave at once; a periodic
sweep (and one at start-up) catches whatever a crashed process left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import REGISTRY, Envelope
from chorale_runtime import metrics
from chorale_runtime.kafka import Producer
from chorale_runtime.logging import get_logger
from chorale_runtime.publishing import EventPublisher
from chorale_runtime.serialized import SerializedDatabase

log = get_logger(__name__)

OUTBOX_FIELD = "outbox"


def outbox_entry(envelope: Envelope) -> dict[str, Any]:
    """The stored form of one pending event."""
    topic = REGISTRY.payload_class(envelope.event_type).topic
    return {
        "event_id": str(envelope.event_id),
        "topic": str(topic),
        "key": envelope.key,
        "value": envelope.model_dump_json(),
    }


def push_events(envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """The `$push` clause that records `envelopes` with the state change of the same update."""
    return {"$push": {OUTBOX_FIELD: {"$each": [outbox_entry(e) for e in envelopes]}}}


def with_events(update: dict[str, Any], envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """Merge the outbox push into an update document (`$set`, `$inc`, ...)."""
    merged = dict(update)
    entries = [outbox_entry(e) for e in envelopes]
    if entries:
        push = dict(merged.get("$push", {}))
        push[OUTBOX_FIELD] = {"$each": entries}
        merged["$push"] = push
    return merged


def new_document(doc: dict[str, Any], envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """A document to insert, carrying its creation events."""
    return {**doc, OUTBOX_FIELD: [outbox_entry(e) for e in envelopes]}


class OutboxRelay:
    def __init__(
        self,
        db: AsyncDatabase | SerializedDatabase,
        collections: Sequence[str],
        producer: Producer,
        *,
        service: str,
        topic_prefix: str = "",
        scan_interval: float = 5.0,
        batch_size: int = 200,
    ):
        self._db = db
        self._collections = list(collections)
        self._publisher = EventPublisher(producer, service=service, topic_prefix=topic_prefix)
        self._service = service
        self._scan_interval = scan_interval
        self._batch_size = batch_size
        self._dirty: dict[tuple[str, Any], int] = {}
        self._sequence = 0
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def notify(self, collection: str, doc_id: Any) -> None:
        """A document of `collection` has new outbox entries: relay them soon."""
        # A fresh sequence number per notification: a flush that read the document before
        # this write must not clear the mark this write left.
        self._sequence += 1
        self._dirty[(collection, doc_id)] = self._sequence
        self._idle.clear()
        self._wakeup.set()

    async def run(self) -> None:
        await self._guarded(self.sweep())
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives together with the wake-up, and shutdown would then wait for ever.
            try:
                async with asyncio.timeout(self._scan_interval):
                    await self._wakeup.wait()
            except TimeoutError:
                await self._guarded(self.sweep())
                continue
            self._wakeup.clear()
            await self._guarded(self.flush())

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Kafka or the database is down: retry on the next round
            log.warning("outbox_relay_failed", error=str(exc), error_type=type(exc).__name__)
            await asyncio.sleep(1)
            self._wakeup.set()

    async def flush(self) -> None:
        """Relay every document marked dirty, in batches, until none is left."""
        while self._dirty:
            marks = list(self._dirty.items())[: self._batch_size]
            by_collection: dict[str, list[Any]] = {}
            for (collection, doc_id), _seq in marks:
                by_collection.setdefault(collection, []).append(doc_id)
            for collection, ids in by_collection.items():
                # One lookup per id: FerretDB serves `{"_id": x}` from its index, `$in` scans.
                found = await asyncio.gather(*[
                    self._db[collection].find_one({"_id": doc_id}, {OUTBOX_FIELD: 1})
                    for doc_id in ids
                ])
                await self._relay(collection, [d for d in found if d is not None])
            for key, seq in marks:
                if self._dirty.get(key) == seq:  # not written again while we relayed
                    del self._dirty[key]
        self._idle.set()

    async def sweep(self) -> int:
        """Find every document still holding events (crash recovery, other replicas' leftovers)."""
        total = 0
        for collection in self._collections:
            cursor = self._db[collection].find(
                {f"{OUTBOX_FIELD}.0": {"$exists": True}}, {OUTBOX_FIELD: 1}
            )
            batch: list[dict[str, Any]] = []
            async for doc in cursor:
                batch.append(doc)
                if len(batch) >= self._batch_size:
                    total += await self._relay(collection, batch)
                    batch = []
            total += await self._relay(collection, batch)
            metrics.OUTBOX_BACKLOG.labels(self._service, collection).set(0)
        return total

    async def _relay(self, collection: str, docs: list[dict[str, Any]]) -> int:
        docs = [d for d in docs if d.get(OUTBOX_FIELD)]
        if not docs:
            return 0
        entries = [entry for doc in docs for entry in doc[OUTBOX_FIELD]]
        metrics.OUTBOX_BACKLOG.labels(self._service, collection).set(len(entries))
        await self._publisher.publish_entries(entries)
        for doc in docs:
            # $pullAll with the entries exactly as read: FerretDB 1.24's $pull takes no
            # conditions, and entries appended meanwhile are left for the next round.
            await self._db[collection].update_one(
                {"_id": doc["_id"]}, {"$pullAll": {OUTBOX_FIELD: doc[OUTBOX_FIELD]}}
            )
        metrics.OUTBOX_BACKLOG.labels(self._service, collection).set(0)
        return len(entries)

    async def wait_idle(self, timeout: float) -> bool:
        """For shutdown and tests: wait until everything notified so far is relayed."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
            return True
        except TimeoutError:
            return False
