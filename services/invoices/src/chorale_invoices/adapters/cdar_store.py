"""The CDAR messages sent, for the partners' API: `_id` = `<invoiceId>-<version:04d>` (one
per visible status change), read by `_id` only."""

from __future__ import annotations

from typing import Any

from chorale_runtime.mongo import insert_once

COLLECTION = "cdar_messages"


def cdar_id(invoice_id: str, version: int) -> str:
    return f"{invoice_id}-{version:04d}"


class CdarStore:
    def __init__(self, db: Any):
        self._col = db[COLLECTION]

    async def put(self, doc: dict[str, Any]) -> bool:
        return await insert_once(self._col, doc)

    async def get(self, message_id: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": message_id})
