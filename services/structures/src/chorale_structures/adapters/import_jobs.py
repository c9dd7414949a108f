"""Import jobs: the uploaded file in a folder of its own, the job's progress in ``import_jobs``.

The file is streamed to ``<id>.part`` and renamed to ``<id>.csv`` once complete, so a file
under its final name is always whole; it is removed when its job ends. Only the import worker
writes a job after its creation, one batch at a time (counters set, new rejections pushed).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chorale_runtime.errors import ApiError

COLLECTION = "import_jobs"
RECEIVED, RUNNING, DONE, FAILED = "RECU", "EN_COURS", "TERMINE", "ECHEC"
COUNTERS = ("creees", "modifiees", "inchangees", "rejetees")


@dataclass
class Progress:
    """What the worker reports after each batch."""

    records: int = 0  # lines yielded by the parser (applied or rejected)
    bytes_read: int = 0
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    new_rejections: list[dict[str, Any]] = field(default_factory=list)
    detailed: int = 0  # rejections already stored in the job


class ImportFiles:
    def __init__(self, folder: Path, max_bytes: int):
        self.folder = folder
        self.max_bytes = max_bytes

    def path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.csv"

    async def receive(self, job_id: str, body: AsyncIterator[bytes]) -> int:
        """Stream the request body to disk; IMPORT_TOO_LARGE past ``max_bytes``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{job_id}.part"
        size = 0
        try:
            with partial.open("wb") as out:
                async for chunk in body:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ApiError(
                            "IMPORT_TOO_LARGE",
                            "Le fichier d'import dépasse la taille maximale.",
                            413,
                            {"tailleMaximale": self.max_bytes},
                        )
                    out.write(chunk)
            os.replace(partial, self.path(job_id))
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        return size

    def discard(self, job_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(job_id).unlink()

    def clean_partials(self) -> None:
        """Uploads a crash interrupted never became jobs."""
        if self.folder.exists():
            for partial in self.folder.glob("*.part"):
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()


class ImportJobs:
    def __init__(self, db: Any):
        self._col = db[COLLECTION]

    async def create(self, job_id: str, *, requester: str | None, correlation_id: str,
                     filename: str | None, size: int, batch_size: int, now: datetime) -> None:
        await self._col.insert_one({
            "_id": job_id, "idImport": job_id, "statut": RECEIVED, "demandeur": requester,
            "tailleLot": batch_size,
            "correlationId": correlation_id, "nomFichier": filename, "tailleFichier": size,
            "octetsTraites": 0, "lignesTraitees": 0, **dict.fromkeys(COUNTERS, 0),
            "rejets": [], "rejetsNonDetailles": 0, "erreur": None, "tentatives": 0,
            "dateCreation": now, "dateDebut": None, "dateFin": None,
        })

    async def get(self, job_id: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": job_id})

    async def unfinished(self) -> list[dict[str, Any]]:
        cursor = self._col.find({"statut": {"$in": [RECEIVED, RUNNING]}}).sort("dateCreation", 1)
        return await cursor.to_list(None)

    async def start(self, job_id: str, now: datetime) -> None:
        await self._col.update_one(
            {"_id": job_id},
            {"$set": {"statut": RUNNING, "dateDebut": now}, "$inc": {"tentatives": 1}},
        )

    async def checkpoint(self, job_id: str, progress: Progress, max_detailed: int) -> None:
        room = max(max_detailed - progress.detailed, 0)
        detailed, extra = progress.new_rejections[:room], progress.new_rejections[room:]
        update: dict[str, Any] = {
            "$set": {
                "lignesTraitees": progress.records,
                "octetsTraites": progress.bytes_read,
                **progress.counters,
            },
        }
        if detailed:
            update["$push"] = {"rejets": {"$each": detailed}}
        if extra:
            update["$inc"] = {"rejetsNonDetailles": len(extra)}
        await self._col.update_one({"_id": job_id}, update)
        progress.detailed += len(detailed)
        progress.new_rejections = []

    async def finish(self, job_id: str, statut: str, now: datetime,
                     error: dict[str, Any] | None = None) -> None:
        fields: dict[str, Any] = {"statut": statut, "dateFin": now, "erreur": error}
        if statut == DONE:
            job = await self.get(job_id)
            fields["octetsTraites"] = job["tailleFichier"] if job else 0
        await self._col.update_one({"_id": job_id}, {"$set": fields})
