"""Bulk notices waiting to be told in one message (`notice_digests`, `_id` = user|category).

A digest opens with its first notice (`digestId` = that event's id) and is due at `dueAt` (a
window later, or the next daily hour). Notices are kept under their event ids (set semantics),
so a replayed batch adds nothing twice; once flushed they move to `sent` (kept two hours), so
an event replayed after its digest went out is not told again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_runtime.mongo import insert_once

NOTICE_DIGESTS = "notice_digests"
SENT_KEPT = timedelta(hours=2)


class NoticeDigests:
    def __init__(self, db: AsyncDatabase):
        self._col = db[NOTICE_DIGESTS]

    async def add(self, user_id: str, category: str, notices: dict[str, dict[str, Any]],
                  now: datetime, due: Callable[[datetime], datetime]) -> int:
        """Add notices (event id → notice); returns how many were new."""
        key = f"{user_id}|{category}"
        doc = await self._col.find_one({"_id": key}, {"openedAt": 1, "sent": 1})
        sent = (doc or {}).get("sent") or {}
        fresh = {k: v for k, v in notices.items() if k not in sent}
        if not fresh:
            return 0
        opening = {"digestId": min(fresh), "openedAt": now, "dueAt": due(now)}
        if doc is None:
            if await insert_once(self._col, {"_id": key, "userId": user_id,
                                             "categorie": category, **opening,
                                             "items": fresh, "sent": {}}):
                return len(fresh)
            doc = await self._col.find_one({"_id": key}, {"openedAt": 1})
        await self._col.update_one({"_id": key},
                                   {"$set": {f"items.{k}": v for k, v in fresh.items()}})
        # Open the digest unless it is open. Not decided from the read above: a flush may have
        # closed it between that read and this write, which would strand these notices in a
        # digest never due. One conditional update, atomic on both engines.
        await self._col.update_one({"_id": key, "dueAt": None}, {"$set": opening})
        return len(fresh)

    async def due(self, now: datetime) -> list[dict[str, Any]]:
        docs = await self._col.find({"dueAt": {"$lte": now}}).to_list(None)
        return [d for d in docs if d.get("items")]

    async def clear(self, doc: dict[str, Any], now: datetime,
                    due: Callable[[datetime], datetime]) -> None:
        """The flushed notices move to `sent`; notices added meanwhile open the next digest."""
        key, flushed = doc["_id"], list(doc["items"])
        stale = [k for k, at in (doc.get("sent") or {}).items() if at < now - SENT_KEPT]
        await self._col.update_one({"_id": key}, {
            "$unset": {**{f"items.{k}": "" for k in flushed},
                       **{f"sent.{k}": "" for k in stale}},
            "$set": {**{f"sent.{k}": now for k in flushed}, "openedAt": None, "dueAt": None},
        })
        left = await self._col.find_one({"_id": key}, {"items": 1, "openedAt": 1})
        if left and left.get("items") and not left.get("openedAt"):
            await self._col.update_one({"_id": key}, {"$set": {
                "digestId": min(left["items"]), "openedAt": now, "dueAt": due(now)}})
