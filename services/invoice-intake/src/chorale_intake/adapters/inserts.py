"""Insert many documents, telling which were new: the one write that is atomic and cheap on
every MongoDB-protocol database (a unique `_id` decides)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def _duplicates(exc: BulkWriteError) -> set[int]:
    """Indexes of the documents refused as duplicates; re-raise anything else."""
    errors = exc.details.get("writeErrors", [])
    if any(e.get("code") != DUPLICATE_KEY for e in errors):
        raise exc
    return {e["index"] for e in errors}


async def insert_new(collection: Any, docs: Sequence[dict[str, Any]]) -> list[bool]:
    """Insert every document whose `_id` is new: True where inserted, False for duplicates."""
    if not docs:
        return []
    try:
        await collection.insert_many(list(docs), ordered=False)
        return [True] * len(docs)
    except BulkWriteError as exc:
        refused = _duplicates(exc)
        return [i not in refused for i in range(len(docs))]
