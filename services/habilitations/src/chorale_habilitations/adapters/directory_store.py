"""Names for the listings (« Raison sociale », « Libellé service », « Statut du service »),
from the directory's snapshots; a snapshot older than the one held is ignored."""

from __future__ import annotations

from typing import Any

from chorale_contracts.events.directory import DirectorySnapshot
from chorale_runtime.mongo import upsert_if_newer

COLLECTION = "directory"


class DirectoryStore:
    def __init__(self, db: Any):
        self._col = db[COLLECTION]

    async def put(self, snapshot: DirectorySnapshot) -> None:
        doc = {
            "raisonSociale": snapshot.raisonSociale,
            "services": [
                {"codeService": s.codeService, "libelle": s.libelle, "statut": s.statut.value}
                for s in snapshot.services
            ],
            "version": snapshot.version,
        }
        await upsert_if_newer(self._col, {"_id": snapshot.identifiant}, {"$set": doc},
                              [("version", snapshot.version)])

    async def names(self, structures: set[str]) -> dict[str, dict[str, Any]]:
        if not structures:
            return {}
        if len(structures) == 1:
            (only,) = structures
            doc = await self._col.find_one({"_id": only})
            docs = [doc] if doc else []
        else:
            docs = await self._col.find({"_id": {"$in": sorted(structures)}}).to_list(None)
        return {d["_id"]: d for d in docs}
