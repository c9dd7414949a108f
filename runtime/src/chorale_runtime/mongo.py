"""MongoDB access through PyMongo's AsyncMongoClient, limited to what FerretDB 1.24 serves too
(DESIGN.md §4): no transactions, change streams, $lookup/$facet/$merge, TTL or partial indexes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import DuplicateKeyError

__all__ = ["DuplicateKeyError", "IndexSpec", "connect", "ensure_indexes", "is_duplicate_key"]


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    name: str | None = None

    def model(self) -> IndexModel:
        name = self.name or "_".join(f"{k}_{d}" for k, d in self.keys)
        return IndexModel(list(self.keys), unique=self.unique, name=name)


def connect(uri: str, app_name: str) -> AsyncMongoClient:
    # tz_aware: every datetime read back is UTC-aware, like the ones we write.
    return AsyncMongoClient(
        uri, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=10_000, connect=False
    )


async def ensure_indexes(db: Any, specs: Iterable[IndexSpec]) -> None:
    by_collection: dict[str, list[IndexModel]] = {}
    for spec in specs:
        by_collection.setdefault(spec.collection, []).append(spec.model())
    for collection, models in by_collection.items():
        # One index per command: FerretDB 1.24 panics (connection closed) when one
        # createIndexes names two or more indexes that already exist, i.e. on every restart.
        for model in models:
            await db[collection].create_indexes([model])


def is_duplicate_key(exc: BaseException) -> bool:
    """A unique index refused the write. FerretDB reports it as code 11000 on inserts and
    upserts, but as a generic error (code 1, "UNIQUE constraint failed") on updates."""
    if isinstance(exc, DuplicateKeyError) or getattr(exc, "code", None) == 11000:
        return True
    return getattr(exc, "code", None) == 1 and "UNIQUE constraint failed" in str(exc)


async def upsert_if_newer(collection: Any, filter_: dict[str, Any], update: dict[str, Any],
                          versions: Iterable[tuple[str, int]]) -> None:
    """Apply `update` (upserting) unless the document already holds, at any of `versions`'
    paths, that version or a newer one: an event replayed or arriving late changes nothing.
    The upsert of a document that exists but is newer meets the `_id` index and is refused;
    that refusal is the expected "nothing to do"."""
    guarded = {**filter_, **{path: {"$not": {"$gte": v}} for path, v in versions}}
    try:
        await collection.update_one(guarded, update, upsert=True)
    except Exception as exc:
        if not is_duplicate_key(exc):
            raise


async def insert_once(collection: Any, doc: dict[str, Any]) -> bool:
    """Insert `doc`; False when its `_id` (or another unique key) is already there: a replay."""
    try:
        await collection.insert_one(doc)
    except Exception as exc:
        if is_duplicate_key(exc):
            return False
        raise
    return True


async def is_ferretdb(db: Any) -> bool:
    """FerretDB (local runs, tests) rather than MongoDB: it serves only an exact `_id` from an
    index, so services keep some lists in memory there (one process per database)."""
    return "ferretdbVersion" in await db.command("buildInfo")
