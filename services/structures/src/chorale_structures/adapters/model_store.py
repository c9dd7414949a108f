"""Documents that are one domain model each (bank details, requests), with the owning
structure's identifiant, creation/modification dates, a ``version`` and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel

from chorale_contracts import Envelope
from chorale_runtime.documents import VersionedDocuments

M = TypeVar("M", bound=BaseModel)


class Versioned(NamedTuple, Generic[M]):
    model: M
    version: int
    identifiant: str  # the structure it belongs to
    created_at: datetime
    modified_at: datetime | None
    extra: dict[str, Any] = {}  # bookkeeping fields of the use case (not the model's)


class ModelStore(Generic[M]):
    def __init__(self, db: Any, name: str, model: type[M], id_field: str, notify: Any = None,
                 extra_fields: Sequence[str] = ()):
        self._docs = VersionedDocuments(db[name], notify)
        self._model = model
        self._id_field = id_field
        self._extra_fields = tuple(extra_fields)

    def _load(self, doc: dict[str, Any]) -> Versioned[M]:
        fields = {k: doc[k] for k in self._model.model_fields if k in doc}
        return Versioned(
            self._model.model_validate(fields),
            doc["version"],
            doc["identifiant"],
            doc["dateCreation"],
            doc.get("dateModification"),
            {k: doc.get(k) for k in self._extra_fields},
        )

    async def add(
        self, identifiant: str, model: M, envelopes: Sequence[Envelope], now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        doc = {
            **(extra or {}),
            "_id": getattr(model, self._id_field),
            **model.model_dump(mode="json"),
            "identifiant": identifiant,
            "dateCreation": now,
            "dateModification": None,
        }
        return await self._docs.insert(doc, envelopes)

    async def get(self, doc_id: str) -> Versioned[M] | None:
        doc = await self._docs.get(doc_id)
        return self._load(doc) if doc else None

    async def save(
        self, current: Versioned[M], new: M, envelopes: Sequence[Envelope], now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        fields = {**(extra or {}), **new.model_dump(mode="json"), "dateModification": now}
        return await self._docs.compare_and_set(
            getattr(current.model, self._id_field), current.version, fields, envelopes
        )

    async def find(
        self, query: dict[str, Any], sort: Sequence[tuple[str, int]] = (("dateCreation", 1),),
        limit: int = 0,
    ) -> list[Versioned[M]]:
        return [self._load(doc) for doc in await self._docs.find(query, sort, limit)]

    async def set_fields(self, doc_id: str, fields: dict[str, Any]) -> None:
        """Bookkeeping without events nor version change (idempotent markers)."""
        await self._docs.collection.update_one({"_id": doc_id}, {"$set": fields})
