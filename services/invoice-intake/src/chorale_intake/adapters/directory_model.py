"""The intake's own read model of the directory (`chorale.directory.v1`): every structure's
latest routing snapshot, in memory (one dictionary lookup per invoice, never a call), backed by
the database so that a restart does not need the whole topic again.

Snapshots are stored insert-only, one document per (structure, version): inserts are atomic and
cheap on FerretDB, and replays are harmless (same `_id`). The in-memory map keeps the highest
version of each structure, whatever the order snapshots arrive in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts.events.directory import DirectorySnapshot
from chorale_intake.domain.directory import RecipientEntry
from chorale_intake.domain.rules import normalise_identifier
from chorale_runtime.mongo import insert_once

COLLECTION = "directory_snapshots"


class DirectoryModel:
    def __init__(self, db: AsyncDatabase):
        self._col = db[COLLECTION]
        self._entries: dict[str, tuple[int, RecipientEntry]] = {}
        self._loaded = False
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def loaded(self) -> bool:
        return self._loaded

    def get(self, identifier: str | None) -> RecipientEntry | None:
        if not identifier:
            return None
        found = self._entries.get(normalise_identifier(identifier))
        return found[1] if found else None

    def version(self, identifier: str) -> int | None:
        found = self._entries.get(normalise_identifier(identifier))
        return found[0] if found else None

    def _keep(self, version: int, snapshot: dict[str, Any]) -> bool:
        key = normalise_identifier(snapshot["identifiant"])
        current = self._entries.get(key)
        if current is not None and current[0] >= version:
            return False
        self._entries[key] = (version, RecipientEntry.model_validate(snapshot))
        return True

    async def load(self) -> None:
        """Fill the map from the database (once; consumers wait for it)."""
        async with self._lock:
            if self._loaded:
                return
            async for doc in self._col.find({}):
                self._keep(doc["version"], doc["snapshot"])
            self._loaded = True

    async def apply(self, event: DirectorySnapshot) -> bool:
        """Store a snapshot; False if an equal or newer version is already held."""
        await self.load()
        if (self.version(event.identifiant) or 0) >= event.version:
            return False
        snapshot = event.model_dump(mode="json")
        await insert_once(self._col, {"_id": f"{event.identifiant}|{event.version:012d}",
                                      "version": event.version, "snapshot": snapshot})
        return self._keep(event.version, snapshot)
