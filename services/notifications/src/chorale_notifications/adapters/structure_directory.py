"""The notifications service's own read model of structures (names used in messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_runtime.mongo import insert_once

COLLECTION = "known_structures"


class StructureDirectory:
    def __init__(self, db: AsyncDatabase):
        self._col = db[COLLECTION]

    async def record_created(
        self,
        identifiant: str,
        raison_sociale: str,
        type_structure: str,
        event_id: str,
        occurred_at: datetime,
    ) -> bool:
        """Record a new structure; False if this structure was already recorded (a replay)."""
        return await insert_once(self._col, {
            "_id": identifiant,
            "raisonSociale": raison_sociale,
            "typeStructure": type_structure,
            "createdAt": occurred_at,
            "sourceEventId": event_id,
        })

    async def get(self, identifiant: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": identifiant})

    async def count(self) -> int:
        return await self._col.count_documents({})
