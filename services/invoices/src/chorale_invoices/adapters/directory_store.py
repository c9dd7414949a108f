"""The directory as this service needs it: each structure's name, parameters
(`statutMiseEnPaiementNestPasRemonte`, EJ rules) and services, from `chorale.directory.v1`.
A snapshot older than the one held is ignored. Read by `_id` (cheap on FerretDB), with the
parameters kept in memory once read: the supplier's list asks them for every recipient."""

from __future__ import annotations

from typing import Any

from chorale_contracts.events.directory import DirectorySnapshot
from chorale_runtime.mongo import is_duplicate_key

COLLECTION = "directory"


class DirectoryStore:
    def __init__(self, db: Any):
        self._col = db[COLLECTION]
        self._hide_payment: dict[str, bool] = {}

    async def put(self, snapshot: DirectorySnapshot) -> None:
        doc = snapshot.model_dump(mode="json")
        doc.pop("identifiant")
        try:
            await self._col.update_one(
                {"_id": snapshot.identifiant, "version": {"$not": {"$gte": snapshot.version}}},
                {"$set": doc}, upsert=True,
            )
        except Exception as exc:
            if not is_duplicate_key(exc):  # an equal or newer snapshot is already there
                raise
        self._hide_payment.pop(snapshot.identifiant, None)

    async def get(self, structure: str) -> DirectorySnapshot | None:
        doc = await self._col.find_one({"_id": structure})
        if doc is None:
            return None
        return DirectorySnapshot.model_validate({**doc, "identifiant": doc["_id"]},
                                                extra="ignore")

    async def name(self, structure: str) -> str | None:
        snapshot = await self.get(structure)
        return snapshot.raisonSociale if snapshot else None

    async def hides_payment(self, structure: str) -> bool:
        """The recipient's `statutMiseEnPaiementNestPasRemonte` (False when unknown)."""
        if structure not in self._hide_payment:
            snapshot = await self.get(structure)
            self._hide_payment[structure] = bool(
                snapshot and snapshot.parametres.statutMiseEnPaiementNestPasRemonte)
        return self._hide_payment[structure]
