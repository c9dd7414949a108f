"""Which events a consumer group has already taken on, for de-duplication on `event_id`.

A whole poll's events are claimed in ONE insert (`insert_many`, unordered): the unique `_id`
(`<group>|<event_id>`) refuses the ones already claimed, atomically on MongoDB and FerretDB
alike. A claim records the record that made it (`topic|partition|offset`). A refused claim
is a duplicate (skipped), except when it was made by this very record: then an earlier run
claimed it and stopped before committing its offset (crash, SIGKILL, shutdown), and the
event is handled again. Handlers are idempotent (deterministic ids, versioned upserts,
offset watermarks), so handling again what a crashed run may have stored is harmless; the
claim only prevents handling twice an event published twice (at two offsets).

FerretDB serves `$in` on `_id` by scanning the collection, so de-duplication never asks
"which of these exist?": it inserts and reads back only the few refused claims by `_id`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

COLLECTION = "processed_events"


@dataclass(frozen=True)
class Claim:
    event_id: str
    event_type: str
    source: str  # "topic|partition|offset" of the record that claims it


class Inbox:
    def __init__(self, db: AsyncDatabase, group: str):
        self._col = db[COLLECTION]
        self._group = group

    def _id(self, event_id: str) -> str:
        return f"{self._group}|{event_id}"

    async def claim(self, claims: Sequence[Claim]) -> set[str]:
        """Claim the events (one round trip); returns the event ids this consumer must
        handle: newly claimed ones and ones an interrupted run claimed from the same record."""
        if not claims:
            return set()
        now = datetime.now(UTC)
        docs = [{"_id": self._id(c.event_id), "type": c.event_type, "at": now,
                 "source": c.source} for c in claims]
        refused: set[int] = set()
        try:
            await self._col.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(not _duplicate(e) for e in errors):
                raise
            refused = {e["index"] for e in errors}
        taken = {c.event_id for i, c in enumerate(claims) if i not in refused}
        if refused:
            again = [claims[i] for i in sorted(refused)]
            held = await asyncio.gather(*(
                self._col.find_one({"_id": self._id(c.event_id)}, {"source": 1})
                for c in again))
            taken.update(c.event_id for c, doc in zip(again, held, strict=True)
                         if doc is not None and doc.get("source") == c.source)
        return taken

    async def forget_older_than(self, age: timedelta) -> int:
        result = await self._col.delete_many({"at": {"$lt": datetime.now(UTC) - age}})
        return result.deleted_count


def _duplicate(error: dict) -> bool:
    """One write error of a bulk insert: the unique `_id` refused it (see is_duplicate_key)."""
    code = error.get("code")
    return code == 11000 or (code == 1 and "UNIQUE constraint failed" in error.get("errmsg", ""))
