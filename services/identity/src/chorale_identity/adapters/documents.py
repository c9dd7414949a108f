"""Domain models ⇄ MongoDB documents, and the two concurrency primitives every repository uses.

A stored document is the model's camelCase dump plus bookkeeping the domain never sees:
``_id``, ``version`` (compare-and-set counter) and ``outbox`` (pending events, written in the
same single-document operation as the state, DESIGN.md §3). Other bookkeeping fields a
repository adds are listed in its ``meta`` and stripped the same way. A model that counts its
own ``version`` (the GP) keeps it: the domain moves it forward and the store checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from chorale_contracts import Envelope
from chorale_runtime.documents import NO_OUTBOX, Notify, VersionedDocuments, no_notify
from chorale_runtime.mongo import is_ferretdb
from chorale_runtime.outbox import OUTBOX_FIELD

M = TypeVar("M", bound=BaseModel)

BOOKKEEPING = frozenset({"_id", "version", OUTBOX_FIELD})

# A repository's transformation between the model's dump and the stored document (sealing the
# secrets it holds): ``to_stored(doc_id, doc)`` before a write, ``from_stored(doc)`` after a read.
DocumentHook = Callable[..., dict[str, Any]]


def _unchanged_out(_doc_id: Any, doc: dict[str, Any]) -> dict[str, Any]:
    return doc


def _unchanged_in(doc: dict[str, Any]) -> dict[str, Any]:
    return doc


class ConcurrentUpdate(Exception):
    """Someone else changed the document since it was read: read again and retry. Should a
    use case give up retrying, the client gets 409 CONCURRENT_UPDATE (try again)."""

    code = "CONCURRENT_UPDATE"
    message = "La donnée a été modifiée en même temps par une autre requête ; réessayez."
    status = 409
    details: dict[str, Any] = {}  # read-only, rendered by the middleware


class AlreadyExists(Exception):
    """An insert hit a unique ``_id`` or index."""


@dataclass(frozen=True)
class Versioned(Generic[M]):
    """A model as read, with the version its compare-and-set update must match."""

    value: M
    version: int
    meta: dict[str, Any] = field(default_factory=dict)


def to_document(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="python", by_alias=True)


def _owns_version(cls: type[BaseModel]) -> bool:
    return "version" in cls.model_fields


def from_document(cls: type[M], doc: dict[str, Any], meta: Iterable[str] = ()) -> M:
    hidden = BOOKKEEPING | set(meta)
    if _owns_version(cls):
        hidden = hidden - {"version"}
    return cls.model_validate({k: v for k, v in doc.items() if k not in hidden})


class Store(Generic[M]):
    """One collection of one aggregate type: insert, read and compare-and-set."""

    def __init__(
        self,
        collection: AsyncCollection,
        model: type[M],
        notify: Notify | None = None,
        meta: Iterable[str] = (),
        *,
        to_stored: DocumentHook = _unchanged_out,
        from_stored: DocumentHook = _unchanged_in,
    ):
        self.docs = VersionedDocuments(collection, notify or no_notify)
        self.col = collection
        self.name = collection.name
        self.model = model
        self.meta = frozenset(meta)
        self.notify = notify or no_notify
        self._to_stored = to_stored
        self._from_stored = from_stored

    def load(self, doc: dict[str, Any] | None) -> Versioned[M] | None:
        if doc is None:
            return None
        return Versioned(
            from_document(self.model, self._from_stored(doc), self.meta),
            int(doc.get("version", 1)),
            {k: doc[k] for k in self.meta if k in doc},
        )

    async def get(self, doc_id: Any) -> Versioned[M] | None:
        return self.load(await self.docs.get(doc_id))

    async def find(self, query: dict[str, Any], **kwargs: Any) -> list[M]:
        docs = await self.col.find(query, NO_OUTBOX, **kwargs).to_list(None)
        return [from_document(self.model, self._from_stored(d), self.meta) for d in docs]

    async def insert(
        self,
        doc_id: Any,
        model: M,
        events: Sequence[Envelope] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        stored = self._to_stored(doc_id, to_document(model))
        if not await self.docs.insert({"_id": doc_id, **stored, **(extra or {})}, events):
            raise AlreadyExists(doc_id)

    async def replace(
        self,
        doc_id: Any,
        expected: Versioned[M] | int,
        model: M,
        events: Sequence[Envelope] = (),
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Store ``model`` if the document is still at the expected version; return the new
        version. Raise ``ConcurrentUpdate`` otherwise."""
        version = expected.version if isinstance(expected, Versioned) else expected
        stored = self._to_stored(doc_id, to_document(model))
        if _owns_version(self.model) and getattr(model, "version", None) != version + 1:
            raise ValueError("the new state must carry the next version")
        if not await self.docs.compare_and_set(doc_id, version, {**stored, **(extra or {})},
                                               events):
            raise ConcurrentUpdate(f"{self.name}/{doc_id}@{version}")
        return version + 1


class Memory(Protocol):
    loaded: bool

    def put(self, model: Any) -> None: ...


async def fill_memory(db: Any, store: Store[Any], memory: Memory) -> bool:
    """Read a whole collection into ``memory`` once, on FerretDB (where a filter other than an
    exact ``_id`` decodes every document, and one process serves the database, so it sees every
    write). False on MongoDB: the indexes answer there and replicas may write."""
    if not await is_ferretdb(db):
        return False
    if not memory.loaded:
        for model in await store.find({}, batch_size=2000):
            memory.put(model)
        memory.loaded = True
    return True
