"""The "Mes messages" inbox (`messages`, `_id` = message id) and notification preferences
(`preferences`, `_id` = user id)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_runtime.mongo import IndexSpec, insert_once

MESSAGES = "messages"
PREFERENCES = "preferences"

INDEXES = [IndexSpec(MESSAGES, (("userId", 1), ("createdAt", -1)))]

_LIST_FIELDS = {"html": 0}


class Inbox:
    def __init__(self, db: AsyncDatabase):
        self._col = db[MESSAGES]

    async def add(self, doc: dict[str, Any]) -> bool:
        """Insert once; False if this (event, recipient) message already exists (a replay)."""
        return await insert_once(self._col, doc)

    def _filter(self, user_id: str, unread_only: bool) -> dict[str, Any]:
        query: dict[str, Any] = {"userId": user_id}
        if unread_only:
            query["lu"] = False
        return query

    async def page(self, user_id: str, *, unread_only: bool, offset: int, limit: int
                   ) -> tuple[list[dict[str, Any]], int]:
        query = self._filter(user_id, unread_only)
        total = await self._col.count_documents(query)
        docs = await (
            self._col.find(query, _LIST_FIELDS).sort([("createdAt", -1), ("_id", 1)])
            .skip(offset).limit(limit).to_list(None)
        )
        return docs, total

    async def unread_count(self, user_id: str) -> int:
        return await self._col.count_documents(self._filter(user_id, True))

    async def get(self, user_id: str, message_id: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": message_id, "userId": user_id})

    async def mark_read(self, user_id: str, message_id: str) -> dict[str, Any] | None:
        doc = await self.get(user_id, message_id)
        if doc is None:
            return None
        if not doc.get("lu"):
            now = datetime.now(UTC)
            await self._col.update_one({"_id": message_id}, {"$set": {"lu": True, "luLe": now}})
            doc = {**doc, "lu": True, "luLe": now}
        return doc


class Preferences:
    def __init__(self, db: AsyncDatabase):
        self._col = db[PREFERENCES]

    async def email_choices(self, user_id: str) -> dict[str, bool]:
        doc = await self._col.find_one({"_id": user_id})
        return dict((doc or {}).get("email") or {})

    async def frequency_choices(self, user_id: str) -> dict[str, str]:
        doc = await self._col.find_one({"_id": user_id}, {"frequence": 1})
        return dict((doc or {}).get("frequence") or {})

    async def set_frequency_choices(self, user_id: str, choices: dict[str, str]) -> None:
        if not choices:
            return
        values: dict[str, Any] = {f"frequence.{k}": v for k, v in choices.items()}
        values["updatedAt"] = datetime.now(UTC)
        await self._col.update_one({"_id": user_id}, {"$set": values}, upsert=True)

    async def set_email_choices(self, user_id: str, choices: dict[str, bool]) -> None:
        if not choices:
            return
        values: dict[str, Any] = {f"email.{k}": v for k, v in choices.items()}
        values["updatedAt"] = datetime.now(UTC)
        await self._col.update_one({"_id": user_id}, {"$set": values}, upsert=True)
