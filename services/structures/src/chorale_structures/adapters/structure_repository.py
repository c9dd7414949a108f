"""Structures in MongoDB: one document per structure, its outbox inside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_runtime.mongo import is_duplicate_key
from chorale_runtime.outbox import new_document

COLLECTION = "structures"


class StructureAlreadyExists(Exception):
    pass


class StructureRepository:
    def __init__(self, db: AsyncDatabase, notify: Any = None):
        self._col = db[COLLECTION]
        self._notify = notify or (lambda collection, doc_id: None)

    async def add(self, doc: dict[str, Any], events: Sequence[Envelope]) -> None:
        try:
            await self._col.insert_one(new_document(doc, events))
        except Exception as exc:
            if is_duplicate_key(exc):
                raise StructureAlreadyExists(doc["_id"]) from None
            raise
        self._notify(COLLECTION, doc["_id"])

    async def get(self, identifiant: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": identifiant}, {"outbox": 0})
