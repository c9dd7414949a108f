"""Hourly counters of flow status changes per partner (`flow_stats_hourly`, `_id` = hour and
partner). A batch of changes is folded per bucket and written with one update per bucket.
Each bucket keeps, per source partition, the offset of the last change it counted
(`marks`), so a batch replayed after a crash counts once (the consumer's inbox already skips
an event published twice)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_notifications.domain.stats import CountedChange, bucket_id, floor, fold_bucket

HOURLY = "flow_stats_hourly"


class FlowStats:
    def __init__(self, db: AsyncDatabase):
        self._col = db[HOURLY]

    async def record(self, changes: Sequence[CountedChange]) -> int:
        """Count the changes; returns how many were new."""
        buckets: dict[str, list[CountedChange]] = {}
        hours: dict[str, tuple[datetime, str]] = {}
        for change in changes:
            hour = floor(change.occurred_at, "heure")
            key = bucket_id(hour, change.partner)
            buckets.setdefault(key, []).append(change)
            hours[key] = (hour, change.partner)
        counted = await asyncio.gather(*(
            self._write(key, hours[key], group) for key, group in buckets.items()))
        return sum(counted)

    async def _write(self, key: str, where: tuple[datetime, str],
                     changes: list[CountedChange]) -> int:
        doc = await self._col.find_one({"_id": key}, {"marks": 1})
        inc, marks = fold_bucket(changes, (doc or {}).get("marks") or {})
        if not inc:
            return 0
        hour, partner = where
        await self._col.update_one(
            {"_id": key},
            {"$inc": inc, "$set": {"heure": hour, "partenaire": partner,
                                   **{f"marks.{k}": v for k, v in marks.items()}}},
            upsert=True,
        )
        return sum(v for k, v in inc.items() if k.startswith("statuts."))

    async def between(self, start: datetime, end: datetime, partner: str | None
                      ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"heure": {"$gte": start, "$lt": end}}
        if partner:
            query["partenaire"] = partner
        return await self._col.find(query, {"events": 0, "marks": 0}).to_list(None)
