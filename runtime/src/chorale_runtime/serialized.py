"""Per-document serialization of read-modify-write operations inside one process.

FerretDB 1.24 (SQLite backend) executes `update_one` and friends as "read the document, apply
the update in Go, write it back" without isolation: two concurrent updates of one document lose
one of them, even plain `$inc` (docs/MEASUREMENTS.md). MongoDB does
not have this problem. Each service owns its database and runs one process per database on
FerretDB, so serializing, inside the process, the updates that target one document restores
MongoDB's per-document atomicity where it matters: an aggregate's state change and its outbox
`$push` against the relay's `$pullAll`, version-checked compare-and-set, counters.

Updates addressed by `_id` lock that document; updates by any other filter lock the whole
collection (and wait for the per-document ones). Inserts need no lock: a unique key is atomic
on both engines. Replicas of one service on FerretDB are therefore not supported; on MongoDB
they are.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.results import UpdateResult

_MUTATORS = (
    "update_one",
    "update_many",
    "replace_one",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "delete_one",
    "delete_many",
)


class _CollectionLocks:
    """A readers/writer scheme: per-document holders are readers of the collection lock."""

    def __init__(self) -> None:
        self._docs: dict[Hashable, asyncio.Lock] = {}
        self._waiters: dict[Hashable, int] = {}
        self._active_docs = 0
        self._collection_busy = False
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def document(self, key: Hashable) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._collection_busy)
            self._active_docs += 1
        lock = self._docs.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[key] -= 1
            if self._waiters[key] == 0:
                del self._waiters[key]
                self._docs.pop(key, None)
            async with self._changed:
                self._active_docs -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def whole(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(
                lambda: not self._collection_busy and self._active_docs == 0
            )
            self._collection_busy = True
        try:
            yield
        finally:
            async with self._changed:
                self._collection_busy = False
                self._changed.notify_all()


def _document_key(filter_: Any) -> Hashable | None:
    if isinstance(filter_, dict):
        doc_id = filter_.get("_id")
        if doc_id is not None and not isinstance(doc_id, dict | list):
            return doc_id if isinstance(doc_id, Hashable) else repr(doc_id)
    return None


_SCALARS = (str, int, float, bool, type(None))


def _simple_conditions(filter_: dict[str, Any]) -> dict[str, Any] | None:
    """The filter's conditions besides `_id` if they are all plain equalities on top-level
    fields with scalar values (what compare-and-set filters look like), else None."""
    rest = {k: v for k, v in filter_.items() if k != "_id"}
    for key, value in rest.items():
        if key.startswith("$") or "." in key or not isinstance(value, _SCALARS):
            return None
    return rest


def _equal(stored: Any, wanted: Any) -> bool:
    if wanted is None:
        return stored is None  # MongoDB: {"f": null} matches null and missing
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return type(stored) is type(wanted) and stored == wanted
    if isinstance(wanted, int | float):
        return isinstance(stored, int | float) and stored == wanted
    return type(stored) is type(wanted) and stored == wanted


class SerializedCollection:
    def __init__(self, collection: AsyncCollection, locks: _CollectionLocks):
        self._collection = collection
        self._locks = locks

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name not in _MUTATORS:
            return attr

        async def serialized(filter_: Any, *args: Any, **kwargs: Any) -> Any:
            key = _document_key(filter_)
            guard = self._locks.document(key) if key is not None else self._locks.whole()
            async with guard:
                if name == "update_one" and key is not None and not kwargs.get("upsert"):
                    conditions = _simple_conditions(filter_)
                    if conditions:
                        return await self._checked_update(key, conditions, *args, **kwargs)
                return await attr(filter_, *args, **kwargs)

        return serialized

    async def _checked_update(
        self, doc_id: Any, conditions: dict[str, Any], update: Any, **kwargs: Any
    ) -> UpdateResult:
        """`update_one({"_id": id, **conditions}, update)` as a read by `_id`, a check, and an
        update by `_id` alone, under the document's lock. FerretDB uses its `_id` index only
        for a filter that is exactly `{"_id": value}`; any other key made it scan the whole
        collection, which turned every compare-and-set into a full scan."""
        current = await self._collection.find_one(
            {"_id": doc_id}, {k: 1 for k in conditions}
        )
        if current is None or not all(
            _equal(current.get(k), v) for k, v in conditions.items()
        ):
            return UpdateResult({"n": 0, "nModified": 0, "ok": 1.0}, acknowledged=True)
        return await self._collection.update_one({"_id": doc_id}, update, **kwargs)

    @property
    def unwrapped(self) -> AsyncCollection:
        return self._collection


class SerializedDatabase:
    """Drop-in for `AsyncDatabase`: `db["name"]` and `db.name` give serialized collections."""

    def __init__(self, db: AsyncDatabase):
        self._db = db
        self._locks: dict[str, _CollectionLocks] = {}

    def __getitem__(self, name: str) -> SerializedCollection:
        locks = self._locks.setdefault(name, _CollectionLocks())
        return SerializedCollection(self._db[name], locks)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self._db, name)
        if isinstance(attr, AsyncCollection):
            return self[name]
        return attr

    @property
    def unwrapped(self) -> AsyncDatabase:
        return self._db
