"""A collection whose documents carry their own outbox (DESIGN.md §3): every write of a state
change pushes its events in the same single-document operation, then wakes the relay.

Updates are compare-and-set on the document's ``version`` (see docs/SERVICE_GUIDE.md,
"Concurrency without transactions"): the caller reloads and decides again when it misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chorale_contracts import Envelope
from chorale_runtime.mongo import is_duplicate_key
from chorale_runtime.outbox import new_document, with_events

NO_OUTBOX = {"outbox": 0}


class OutboxCollection:
    def __init__(self, db: Any, name: str, notify: Any = None):
        self.name = name
        self.collection = db[name]
        self._notify = notify or (lambda collection, doc_id: None)

    async def insert(self, doc: dict[str, Any], envelopes: Sequence[Envelope]) -> bool:
        """Insert ``doc`` (with ``version`` 1 unless given); False if its ``_id`` exists."""
        try:
            await self.collection.insert_one(new_document({"version": 1, **doc}, envelopes))
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        self.notify(doc["_id"])
        return True

    async def compare_and_set(
        self,
        doc_id: Any,
        version: int,
        fields: dict[str, Any],
        envelopes: Sequence[Envelope],
    ) -> bool:
        """Set ``fields`` and bump ``version`` only if the stored version is ``version``."""
        result = await self.collection.update_one(
            {"_id": doc_id, "version": version},
            with_events({"$set": {**fields, "version": version + 1}}, envelopes),
        )
        if result.modified_count != 1:
            return False
        if envelopes:
            self.notify(doc_id)
        return True

    async def get(self, doc_id: Any) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": doc_id}, NO_OUTBOX)

    async def find(
        self, query: dict[str, Any], sort: Sequence[tuple[str, int]] = (("_id", 1),),
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        cursor = self.collection.find(query, NO_OUTBOX).sort(list(sort)).limit(limit)
        return await cursor.to_list(None)

    def notify(self, doc_id: Any) -> None:
        self._notify(self.name, doc_id)
