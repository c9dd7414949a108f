"""Structures in the database: one document per structure (``_id`` = identifiant) holding its
general information, parameters, services, a monotonic ``version`` and its outbox.

Services are embedded so that a service change, the structure's new ``version`` and the
directory snapshot of that version are one single-document write. Every write after the
insert is a compare-and-set on ``version``: two concurrent changes of one structure (two
creations of the same ``codeService``...) cannot both win; the loser reloads and re-decides.
On FerretDB the per-document serialization of ``runtime.db`` makes the check-and-write atomic
inside the process; on MongoDB the filtered update is atomic by itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import BulkWriteError

from chorale_contracts import Envelope
from chorale_runtime.documents import NO_OUTBOX, VersionedDocuments
from chorale_runtime.mongo import IndexSpec, ensure_indexes, is_duplicate_key
from chorale_runtime.outbox import new_document
from chorale_structures.domain import DomainError, ErrorCode, Service, Structure
from chorale_structures.domain.structure_search import (
    PROJECTION,
    ListedStructure,
    SearchCriteria,
    SearchIndex,
)

COLLECTION = "structures"
SEARCH_INDEXES = [  # sort by raison sociale, code postal prefix
    IndexSpec(COLLECTION, (("raisonSociale", 1),)),
    IndexSpec(COLLECTION, (("codePostal", 1),)),
]


async def ensure_search_indexes(db: Any) -> None:
    """On MongoDB only. FerretDB 1.24 never uses a secondary index (its query pushdown covers
    ``_id`` alone), so there they would only slow every insert down (docs/MEASUREMENTS.md)."""
    if "ferretdbVersion" in await db.command("buildInfo"):
        return
    await ensure_indexes(db, SEARCH_INDEXES)
_STRUCTURE_FIELDS = tuple(Structure.model_fields)


@dataclass(frozen=True)
class StoredStructure:
    """A structure with its services as stored, at one ``version``."""

    structure: Structure
    services: dict[str, Service]  # by codeService
    version: int = 1
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified_at: datetime | None = None
    origin_request: str | None = None  # the creation request it comes from, if any
    import_batch: str | None = None  # the import batch that created it, if any

    @property
    def identifiant(self) -> str:
        return self.structure.identifiant

    def evolve(
        self, structure: Structure, services: dict[str, Service], now: datetime
    ) -> StoredStructure:
        return replace(
            self, structure=structure, services=services, version=self.version + 1,
            modified_at=now,
        )

    def state_fields(self) -> dict[str, Any]:
        """What a write sets (everything but ``_id``, bookkeeping of creation and outbox)."""
        return {
            **self.structure.model_dump(mode="json"),
            "services": [s.model_dump(mode="json") for s in self.services.values()],
            "dateModification": self.modified_at,
        }

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.identifiant,
            **self.state_fields(),
            "version": self.version,
            "dateCreation": self.created_at,
            "idDemandeOrigine": self.origin_request,
            "idLotImport": self.import_batch,
        }


def from_document(doc: dict[str, Any]) -> StoredStructure:
    structure = Structure.model_validate({k: doc[k] for k in _STRUCTURE_FIELDS if k in doc})
    services = [Service.model_validate(s) for s in doc.get("services") or ()]
    return StoredStructure(
        structure=structure,
        services={s.codeService: s for s in services},
        version=doc["version"],
        created_at=doc["dateCreation"],
        modified_at=doc.get("dateModification"),
        origin_request=doc.get("idDemandeOrigine"),
        import_batch=doc.get("idLotImport"),
    )


def mongo_query(criteria: SearchCriteria) -> dict[str, Any]:
    """The database's form of a search (MongoDB); ``SearchIndex`` answers alike in memory."""
    query: dict[str, Any] = {}
    ids = criteria.identifiants()
    if ids is not None:
        query["_id"] = {"$in": sorted(ids)}
    for name in ("raisonSociale", "ville"):
        value = getattr(criteria, name)
        if value:
            query[name] = {"$regex": re.escape(value.strip()), "$options": "i"}
    if criteria.codePostal:
        query["codePostal"] = {"$regex": "^" + re.escape(criteria.codePostal.strip())}
    for name in ("typeStructure", "statut"):
        if getattr(criteria, name):
            query[name] = getattr(criteria, name)
    if criteria.texte and criteria.texte.strip():
        part = {"$regex": re.escape(criteria.texte.strip()), "$options": "i"}
        query["$or"] = [{"_id": criteria.texte.replace(" ", "")}, {"raisonSociale": part},
                        {"libelleStructure": part}]
    return query


class StructureStore:
    def __init__(self, db: Any, notify: Any = None):
        self._docs = VersionedDocuments(db[COLLECTION], notify)
        self._col = self._docs.collection
        self._db = db
        # Fed by every write of this store, used once loaded (see load_search_index).
        self.index = SearchIndex()
        self._indexing = True  # until the database turns out to be MongoDB

    async def load_search_index(self, batch_size: int = 2000) -> None:
        """Read every structure's searched fields into ``index``, then search there.

        FerretDB only (one process per service database there, so this process sees every
        write): on MongoDB, with possibly several replicas, the database's indexes answer.
        Writes made while loading are kept (the newest version of a row wins); on MongoDB the
        rows writes put in `index` so far are dropped and no more are kept."""
        if "ferretdbVersion" not in await self._db.command("buildInfo"):
            self.index, self._indexing = SearchIndex(), False  # what writes put there so far
            return
        # One cursor, one scan (pages by `_id` would each scan the collection on FerretDB).
        async for doc in self._col.find({}, PROJECTION, batch_size=batch_size):
            self.index.put(ListedStructure.of(doc))
        self.index.loaded = True

    def _indexed(self, stored: StoredStructure) -> None:
        if not self._indexing:
            return
        s = stored.structure  # not to_document(): an import calls this for every new line
        self.index.put(ListedStructure(
            identifiant=s.identifiant, version=stored.version, raisonSociale=s.raisonSociale,
            ville=s.ville, codePostal=s.codePostal, typeStructure=s.typeStructure.value,
            statut=s.statut.value, dateCreation=stored.created_at,
            libelleStructure=s.libelleStructure,
        ))

    async def insert(self, stored: StoredStructure, envelopes: Sequence[Envelope]) -> None:
        if not await self._docs.insert(stored.to_document(), envelopes):
            raise DomainError(
                ErrorCode.STRUCTURE_EXISTS, details={"identifiant": stored.identifiant}
            )
        self._indexed(stored)

    async def insert_many(self, structures: Sequence[StoredStructure]) -> set[str]:
        """Insert new structures in one round trip, with an empty outbox (their events are
        published by the import itself, see import_runner.py); return the identifiants that
        already existed (nothing written for those)."""
        if not structures:
            return set()
        docs = [new_document(stored.to_document(), ()) for stored in structures]
        existing: set[str] = set()
        try:
            await self._col.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                if not is_duplicate_key(_Coded(error)):
                    raise
                existing.add(docs[error["index"]]["_id"])
        for stored in structures:
            if stored.identifiant not in existing:
                self._indexed(stored)
        return existing

    async def replace(
        self, expected_version: int, new: StoredStructure, envelopes: Sequence[Envelope]
    ) -> bool:
        """Compare-and-set: write ``new`` only if the stored version is still the expected one."""
        assert new.version == expected_version + 1
        written = await self._docs.compare_and_set(
            new.identifiant, expected_version, new.state_fields(), envelopes
        )
        if written:
            self._indexed(new)
        return written

    async def get(self, identifiant: str) -> StoredStructure | None:
        doc = await self._col.find_one({"_id": identifiant}, NO_OUTBOX)
        return from_document(doc) if doc else None

    async def get_many(self, identifiants: Iterable[str]) -> dict[str, StoredStructure]:
        ids = list(dict.fromkeys(identifiants))
        if not ids:
            return {}
        cursor = self._col.find({"_id": {"$in": ids}}, NO_OUTBOX)
        return {doc["_id"]: from_document(doc) async for doc in cursor}

    async def search(
        self, criteria: SearchCriteria, sort: list[tuple[str, int]], skip: int, limit: int
    ) -> tuple[int, list[ListedStructure]]:
        """The number of structures matching and one page of them, sorted on ``sort`` (a field,
        then ``_id``): only what a list shows (a structure's page reads the rest)."""
        if self.index.loaded:
            field, direction = sort[0]
            return self.index.search(criteria, "identifiant" if field == "_id" else field,
                                     direction < 0, skip, limit)
        query = mongo_query(criteria)
        total = await self._col.count_documents(query)
        cursor = self._col.find(query, PROJECTION).sort(sort).skip(skip).limit(limit)
        return total, [ListedStructure.of(doc) async for doc in cursor]

    async def iter_all(self, batch_size: int) -> AsyncIterator[list[StoredStructure]]:
        """Every structure, by identifiant, in lists of ``batch_size`` (bounded memory)."""
        last: str | None = None
        while True:
            query = {"_id": {"$gt": last}} if last is not None else {}
            cursor = self._col.find(query, NO_OUTBOX).sort("_id", 1).limit(batch_size)
            batch = [from_document(doc) async for doc in cursor]
            if not batch:
                return
            yield batch
            last = batch[-1].identifiant


class _Coded(Exception):
    """Adapts a bulk write error entry to what ``is_duplicate_key`` inspects."""

    def __init__(self, entry: dict[str, Any]):
        super().__init__(entry.get("errmsg", ""))
        self.code = entry.get("code")
