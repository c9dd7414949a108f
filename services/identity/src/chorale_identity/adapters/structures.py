"""Identity's read model of the structures it is asked about (from ``chorale.structures.v1``):
enough to refuse a rattachement to an unknown structure or service, to tell public from
private for GP rules, and to show the raison sociale in Approbations. ``_id`` = identifiant.

Every write sets absolute values, so replaying an event changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_runtime.mongo import is_ferretdb

COLLECTION = "known_structures"
SERVICES = "known_services"  # _id = "<identifiant>|<codeService>" (codes may hold dots)


@dataclass(frozen=True)
class KnownService:
    code: str
    libelle: str
    statut: str

    @property
    def active(self) -> bool:
        return self.statut == "ACTIF"


@dataclass(frozen=True)
class KnownStructure:
    identifiant: str
    raison_sociale: str
    type_structure: str
    statut: str = "ACTIVE"

    @property
    def active(self) -> bool:
        return self.statut == "ACTIVE"


def _structure(doc: dict[str, Any]) -> KnownStructure:
    return KnownStructure(
        identifiant=doc["_id"],
        raison_sociale=doc.get("raisonSociale", ""),
        type_structure=doc.get("typeStructure", ""),
        statut=doc.get("statut", "ACTIVE"),
    )


def _service_id(identifiant: str, code: str) -> str:
    return f"{identifiant}|{code}"


class StructureDirectory:
    def __init__(self, db: AsyncDatabase):
        self._db = db
        self._col = db[COLLECTION]
        self._memory: dict[str, KnownStructure] | None = None
        self._loaded = False
        self._services = db[SERVICES]

    async def load_memory(self) -> None:
        """On FerretDB (one process per database) the structures are also kept in memory, as
        the rattachements are (adapters/rattachements.py): the portal's pages ask for names."""
        if not await is_ferretdb(self._db):
            return
        memory = self._memory if self._memory is not None else {}
        self._memory = memory
        async for doc in self._col.find({}):
            memory.setdefault(doc["_id"], _structure(doc))  # a write since then is newer
        self._loaded = True

    async def _remember(self, identifiant: str) -> None:
        if self._memory is None:
            return
        doc = await self._col.find_one({"_id": identifiant})
        if doc:
            self._memory[identifiant] = _structure(doc)

    async def get(self, identifiant: str) -> KnownStructure | None:
        if self._loaded and self._memory is not None:
            return self._memory.get(identifiant)
        doc = await self._col.find_one({"_id": identifiant})
        return _structure(doc) if doc else None

    async def many(self, identifiants: Iterable[str]) -> dict[str, KnownStructure]:
        ids = sorted(set(identifiants))
        if len(ids) <= 50:
            # FerretDB answers an exact `_id` in SQLite but decodes every document for `$in`
            found = await asyncio.gather(*(self.get(i) for i in ids))
            return {k.identifiant: k for k in found if k is not None}
        docs = await self._col.find({"_id": {"$in": ids}}).to_list(None)
        return {d["_id"]: _structure(d) for d in docs}

    async def record_structure(
        self, identifiant: str, raison_sociale: str, type_structure: str, type_identifiant: str
    ) -> None:
        await self._col.update_one(
            {"_id": identifiant},
            {
                "$set": {
                    "raisonSociale": raison_sociale,
                    "typeStructure": type_structure,
                    "typeIdentifiant": type_identifiant,
                },
                "$setOnInsert": {"statut": "ACTIVE"},
            },
            upsert=True,
        )
        await self._remember(identifiant)

    async def set_fields(self, identifiant: str, **values: Any) -> None:
        if values:
            await self._col.update_one({"_id": identifiant}, {"$set": values}, upsert=True)
            await self._remember(identifiant)

    async def service(self, identifiant: str, code: str) -> KnownService | None:
        doc = await self._services.find_one({"_id": _service_id(identifiant, code)})
        return KnownService(code, doc["libelle"], doc["statut"]) if doc else None

    async def record_service(self, identifiant: str, code: str, libelle: str, statut: str) -> None:
        await self._services.update_one(
            {"_id": _service_id(identifiant, code)},
            {"$set": {"libelle": libelle, "statut": statut}},
            upsert=True,
        )
