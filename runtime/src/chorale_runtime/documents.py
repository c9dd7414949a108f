"""Versioned documents that carry their own outbox (DESIGN.md §3): every write of a state change
pushes its events in the same single-document operation, then wakes the relay.

A document's `version` starts at 1; updates are compare-and-set on it (see
docs/SERVICE_GUIDE.md, "Concurrency without transactions"): a write that misses tells the caller,
who reads again and decides again. An insert whose `_id` (or another unique key) is taken tells
it too: creation is exactly-once across processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chorale_contracts import Envelope
from chorale_runtime.mongo import insert_once
from chorale_runtime.outbox import OUTBOX_FIELD, new_document, with_events

NO_OUTBOX = {OUTBOX_FIELD: 0}

Notify = Callable[[str, Any], None]


def no_notify(_collection: str, _doc_id: Any) -> None:
    return None


class VersionedDocuments:
    """One collection of versioned documents with their outbox."""

    def __init__(self, collection: Any, notify: Notify | None = None):
        self.collection = collection
        self.name: str = collection.name
        self._notify = notify or no_notify

    async def insert(self, doc: dict[str, Any], envelopes: Sequence[Envelope] = ()) -> bool:
        """Insert `doc` (with `version` 1 unless given) and its creation events; False if its
        `_id` or another unique key is taken."""
        if not await insert_once(self.collection,
                                 new_document({"version": 1, **doc}, envelopes)):
            return False
        if envelopes:
            self.notify(doc["_id"])
        return True

    async def compare_and_set(
        self, doc_id: Any, version: int, fields: dict[str, Any],
        envelopes: Sequence[Envelope] = (),
    ) -> bool:
        """Set `fields`, version `version` + 1, and record `envelopes`, only if the stored
        version is `version`; False otherwise (someone wrote first)."""
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
