"""Habilitation changes waiting to be told in one mail (`habilitation_digests`, `_id` = user).

A digest is opened by the first change (its `digestId` is that event's id, so a replay lands
in the same digest) and collects changes under their event ids (set semantics). Once the
window has passed it is flushed into one message whose id derives from `digestId`; the flushed
changes are then removed and the next change opens a new digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_runtime.mongo import insert_once

DIGESTS = "habilitation_digests"


class HabilitationDigests:
    def __init__(self, db: AsyncDatabase):
        self._col = db[DIGESTS]

    async def add(self, user_id: str, event_id: str, change: dict[str, Any],
                  now: datetime) -> None:
        doc = await self._col.find_one({"_id": user_id}, {"digestId": 1, "changes": 1})
        if doc is None:
            if await insert_once(self._col, {"_id": user_id, "digestId": event_id,
                                             "openedAt": now, "changes": {event_id: change}}):
                return
            doc = await self._col.find_one({"_id": user_id}, {"digestId": 1, "changes": 1})
        update: dict[str, Any] = {"$set": {f"changes.{event_id}": change}}
        if not (doc or {}).get("changes"):  # empty since the last flush: a new digest opens
            update["$set"].update({"digestId": event_id, "openedAt": now})
        await self._col.update_one({"_id": user_id}, update)

    async def due(self, cutoff: datetime) -> list[dict[str, Any]]:
        docs = await self._col.find({"openedAt": {"$lte": cutoff}}).to_list(None)
        return [d for d in docs if d.get("changes")]

    async def clear(self, user_id: str, digest_id: str, keys: list[str], now: datetime) -> None:
        """Remove the flushed changes. Ones added meanwhile stay, under a successor digest id
        (a new message), their window starting now."""
        await self._col.update_one(
            {"_id": user_id},
            {"$unset": {f"changes.{k}": "" for k in keys},
             "$set": {"digestId": f"{digest_id}+", "openedAt": now}},
        )
