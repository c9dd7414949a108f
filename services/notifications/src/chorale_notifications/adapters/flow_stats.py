"""Hourly counters of flow status changes per partner (`flow_stats_hourly`, `_id` = hour and
partner). Each bucket remembers the event ids it counted, so a replayed event counts once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_notifications.domain.stats import bucket_id, floor, safe_key

HOURLY = "flow_stats_hourly"


class FlowStats:
    def __init__(self, db: AsyncDatabase):
        self._col = db[HOURLY]

    async def record(self, event_id: str, occurred_at: datetime, partner: str, statut: str,
                     codes: list[str]) -> bool:
        hour = floor(occurred_at, "heure")
        key = bucket_id(hour, partner)
        doc = await self._col.find_one({"_id": key}, {"events": 1})
        if doc and event_id in (doc.get("events") or []):
            return False
        inc: dict[str, int] = {f"statuts.{statut}": 1}
        for code in codes:
            field = f"codesRejet.{safe_key(code)}"
            inc[field] = inc.get(field, 0) + 1
        await self._col.update_one(
            {"_id": key},
            {"$inc": inc, "$push": {"events": event_id},
             "$set": {"heure": hour, "partenaire": partner}},
            upsert=True,
        )
        return True

    async def between(self, start: datetime, end: datetime, partner: str | None
                      ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"heure": {"$gte": start, "$lt": end}}
        if partner:
            query["partenaire"] = partner
        return await self._col.find(query, {"events": 0}).to_list(None)
