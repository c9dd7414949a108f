"""Which keys of the authz read model changed, told to every process sharing the database.

Replicas of a service share one consumer group, so each consumes only part of the grant events,
yet each keeps its own cache. The consumer that applied an event says so here, in the service's
own database, *after* writing the read model; every process follows these announcements and
drops what they name.

One document per writing process (`_id` = a random writer id) holds its sequence number and a
ring of the last `RING` announcements, slot `seq % RING`. A single writer per document needs no
atomic server-side arithmetic (FerretDB 1.24 has none that is safe under concurrency, and
ignores `$slice` in `$push`). A follower that finds a gap it cannot fill (ring overwritten,
writer document pruned) reports "lost", and its owner clears the whole cache.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

COLLECTION = "authz_changes"
RING = 256
STALE_WRITER = timedelta(days=1)


class ChangeLog:
    """The writing side: one per read-model instance."""

    def __init__(self, db: Any):
        self._col = db[COLLECTION]
        self._writer = uuid.uuid4().hex
        self._seq = 0
        self._lock = asyncio.Lock()

    async def announce(self, keys: Iterable[str]) -> None:
        keys = sorted(set(keys))
        if not keys:
            return
        async with self._lock:  # slots are written in sequence order
            seq = self._seq + 1
            await self._col.update_one(
                {"_id": self._writer},
                {"$set": {"seq": seq, f"ring.{seq % RING}": {"s": seq, "k": keys},
                          "at": datetime.now(UTC)}},
                upsert=True,
            )
            self._seq = seq


class ChangeFollower:
    """The reading side: what changed since the previous `poll`."""

    def __init__(self, db: Any):
        self._col = db[COLLECTION]
        self._seen: dict[str, int] = {}
        self._started = False

    async def poll(self) -> set[str] | None:
        """Keys announced since the last poll; None when some may have been missed. The first
        poll only sets the starting point."""
        docs = await self._col.find({}).to_list(None)
        changed: set[str] = set()
        lost = False
        present = set()
        for doc in docs:
            writer, seq = doc["_id"], int(doc.get("seq", 0))
            present.add(writer)
            last = self._seen.get(writer)
            self._seen[writer] = seq
            if last is None:
                if not self._started:
                    continue
                last = 0  # a writer that appeared since: all it wrote is new
            if seq <= last:
                continue
            found = _between(doc.get("ring") or {}, last, seq)
            if found is None:
                lost = True
            else:
                changed.update(found)
        for writer in set(self._seen) - present:
            del self._seen[writer]  # pruned: if it writes again, its gap is detected
        self._started = True
        return None if lost else changed

    async def prune(self) -> None:
        """Forget writers silent for a day (processes long gone)."""
        await self._col.delete_many({"at": {"$lt": datetime.now(UTC) - STALE_WRITER}})


def _between(ring: dict[str, Any], last: int, seq: int) -> set[str] | None:
    if seq - last > RING:
        return None
    keys: set[str] = set()
    for s in range(last + 1, seq + 1):
        slot = ring.get(str(s % RING))
        if not slot or slot.get("s") != s:
            return None
        keys.update(slot.get("k") or ())
    return keys
