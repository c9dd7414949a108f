"""MongoDB access through PyMongo's AsyncMongoClient, limited to what FerretDB 1.24 serves too
(DESIGN.md §4): no transactions, change streams, $lookup/$facet/$merge, TTL or partial indexes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
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


async def ensure_indexes(db: AsyncDatabase, specs: Iterable[IndexSpec]) -> None:
    by_collection: dict[str, list[IndexModel]] = {}
    for spec in specs:
        by_collection.setdefault(spec.collection, []).append(spec.model())
    for collection, models in by_collection.items():
        await db[collection].create_indexes(models)


def is_duplicate_key(exc: BaseException) -> bool:
    return isinstance(exc, DuplicateKeyError) or getattr(exc, "code", None) == 11000
