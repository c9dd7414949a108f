"""Which events a consumer group has already handled, for de-duplication on `event_id`.

Handlers make their own effects idempotent (deterministic ids, versioned upserts), so the
marker written after the effect only saves repeated work: a crash between effect and marker
replays a harmless handler.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from chorale_runtime.mongo import is_duplicate_key

COLLECTION = "processed_events"


class Inbox:
    def __init__(self, db: AsyncDatabase, group: str):
        self._col = db[COLLECTION]
        self._group = group

    def _id(self, event_id: str) -> str:
        return f"{self._group}|{event_id}"

    async def seen(self, event_id: str) -> bool:
        return await self._col.find_one({"_id": self._id(event_id)}, {"_id": 1}) is not None

    async def mark(self, event_id: str, event_type: str) -> None:
        try:
            await self._col.insert_one(
                {"_id": self._id(event_id), "type": event_type, "at": datetime.now(UTC)}
            )
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def forget_older_than(self, age: timedelta) -> int:
        result = await self._col.delete_many({"at": {"$lt": datetime.now(UTC) - age}})
        return result.deleted_count
