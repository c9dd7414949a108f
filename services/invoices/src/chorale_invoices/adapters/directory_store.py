"""The directory as this service needs it: each structure's name, parameters
(`statutMiseEnPaiementNestPasRemonte`, EJ rules) and services, from `chorale.directory.v1`.
A snapshot older than the one held is ignored. Read by `_id`, with each structure's name and
payment parameter kept in memory once read (every status change and the supplier's list ask
them), forgotten when a new snapshot arrives."""

from __future__ import annotations

from typing import Any

from chorale_contracts.events.directory import DirectorySnapshot
from chorale_runtime.mongo import upsert_if_newer

COLLECTION = "directory"


class DirectoryStore:
    def __init__(self, db: Any):
        self._col = db[COLLECTION]
        self._summary: dict[str, tuple[str | None, bool]] = {}

    async def put(self, snapshot: DirectorySnapshot) -> None:
        doc = snapshot.model_dump(mode="json")
        doc.pop("identifiant")
        await upsert_if_newer(self._col, {"_id": snapshot.identifiant}, {"$set": doc},
                              [("version", snapshot.version)])
        self._summary.pop(snapshot.identifiant, None)

    async def get(self, structure: str) -> DirectorySnapshot | None:
        doc = await self._col.find_one({"_id": structure})
        if doc is None:
            return None
        return DirectorySnapshot.model_validate({**doc, "identifiant": doc["_id"]},
                                                extra="ignore")

    async def _summary_of(self, structure: str) -> tuple[str | None, bool]:
        if structure not in self._summary:
            snapshot = await self.get(structure)
            self._summary[structure] = (
                snapshot.raisonSociale if snapshot else None,
                bool(snapshot and snapshot.parametres.statutMiseEnPaiementNestPasRemonte))
        return self._summary[structure]

    async def name(self, structure: str) -> str | None:
        return (await self._summary_of(structure))[0]

    async def hides_payment(self, structure: str) -> bool:
        """The recipient's `statutMiseEnPaiementNestPasRemonte` (False when unknown)."""
        return (await self._summary_of(structure))[1]
