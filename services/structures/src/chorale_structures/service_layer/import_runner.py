"""The operator import, run in the background one job at a time, batch by batch.

Per batch: parse the next lines (in a worker thread, so the API stays responsive), load the
structures they name in one query, plan (import_batch.py), insert the new structures in one
round trip and compare-and-set the changed ones, then record the progress. Memory is bounded
by the batch size whatever the file size. A job interrupted by a stop or a crash resumes
after its last recorded batch at the next start; the lines of the batch in flight are applied
again and, the import being idempotent, reported unchanged.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from chorale_runtime.logging import get_logger
from chorale_structures.adapters.import_jobs import (
    DONE,
    FAILED,
    ImportFiles,
    ImportJobs,
    Progress,
)
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain import DomainError, ImportOutcome, RowRejection, iter_import_rows
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.import_batch import ImportItem, identifiants, plan_batch

log = get_logger(__name__)
MAX_ATTEMPTS = 3  # of a job (crashes) and of a batch's writes (concurrent changes)
_COUNTER = {
    ImportOutcome.CREATED: "creees",
    ImportOutcome.UPDATED: "modifiees",
    ImportOutcome.UNCHANGED: "inchangees",
}


class _CountingLines:
    def __init__(self, file: IO[bytes]):
        self._file = file
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._file:
            self.bytes_read += len(line)
            yield line


def _record(progress: Progress, result: ImportOutcome | RowRejection) -> None:
    if isinstance(result, RowRejection):
        progress.counters["rejetees"] += 1
        progress.new_rejections.append({
            "ligne": result.line, "code": str(result.code), "raison": result.reason,
            "identifiant": result.identifiant,
        })
    else:
        progress.counters[_COUNTER[result]] += 1


class ImportWorker:
    def __init__(self, jobs: ImportJobs, files: ImportFiles, store: StructureStore, *,
                 batch_size: int, max_detailed: int):
        self.jobs, self.files, self.store = jobs, files, store
        self.batch_size, self.max_detailed = batch_size, max_detailed
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._stopping = False
        self._between_batches = asyncio.Event()
        self._between_batches.set()

    def submit(self, job_id: str) -> None:
        self._queue.put_nowait(job_id)

    async def run(self) -> None:
        """The supervised background task: unfinished jobs first, then new ones."""
        self.files.clean_partials()
        seen: set[str] = set()
        for job in await self.jobs.unfinished():
            seen.add(job["_id"])
            await self.run_job(job["_id"])
        while not self._stopping:
            job_id = await self._queue.get()
            if job_id not in seen:
                await self.run_job(job_id)

    async def stop(self, timeout: float = 10) -> None:
        """Finish the batch in flight; the job resumes from there at the next start."""
        self._stopping = True
        try:
            await asyncio.wait_for(self._between_batches.wait(), timeout)
        except TimeoutError:
            log.warning("import_stop_timeout")

    async def run_job(self, job_id: str) -> None:
        job = await self.jobs.get(job_id)
        if job is None or job["statut"] in (DONE, FAILED):
            return
        now = datetime.now(UTC)
        path = self.files.path(job_id)
        if job["tentatives"] >= MAX_ATTEMPTS or not path.exists():
            reason = "fichier introuvable" if not path.exists() else "trop de tentatives"
            await self.jobs.finish(job_id, FAILED, now, {"code": "IMPORT_FAILED",
                                                         "message": f"Import échoué : {reason}."})
            self.files.discard(job_id)
            return
        await self.jobs.start(job_id, now)
        log.info("import_started", job=job_id, resumed_at=job["lignesTraitees"])
        try:
            finished = await self._process(job, path)
        except DomainError as error:  # file-level: unusable header
            await self.jobs.finish(job_id, FAILED, datetime.now(UTC), error.to_dict())
            self.files.discard(job_id)
            return
        if finished:
            await self.jobs.finish(job_id, DONE, datetime.now(UTC))
            self.files.discard(job_id)
            log.info("import_done", job=job_id)

    async def _process(self, job: dict[str, Any], path: Any) -> bool:
        progress = Progress(
            records=job["lignesTraitees"], bytes_read=job["octetsTraites"],
            counters={k: job[k] for k in ("creees", "modifiees", "inchangees", "rejetees")},
            detailed=len(job["rejets"]),
        )
        with path.open("rb") as file:
            lines = _CountingLines(file)
            rows = iter_import_rows(lines)
            await asyncio.to_thread(_skip, rows, progress.records)
            while not self._stopping:
                batch = await asyncio.to_thread(_take, rows, self.batch_size)
                if not batch:
                    return True
                self._between_batches.clear()
                try:
                    actor = Actor(job["demandeur"], job["correlationId"], is_operator=True)
                    await self._apply(batch, actor, progress)
                    progress.records += len(batch)
                    progress.bytes_read = lines.bytes_read
                    await self.jobs.checkpoint(job["_id"], progress, self.max_detailed)
                finally:
                    self._between_batches.set()
        return False

    async def _apply(self, batch: list[ImportItem], actor: Actor, progress: Progress) -> None:
        pending = batch
        for _ in range(MAX_ATTEMPTS):
            loaded = await self.store.get_many(identifiants(pending))
            plan = await asyncio.to_thread(
                plan_batch, pending, loaded, today=actor.now.date(), actor=actor
            )
            missed = await self.store.insert_many(plan.inserts)
            written = await asyncio.gather(
                *(self.store.replace(version, new, envs) for version, new, envs in plan.updates)
            )
            missed |= {new.identifiant for (_, new, _), ok in zip(plan.updates, written,
                                                                 strict=True) if not ok}
            for identifiant, result in plan.results:
                if identifiant is None or identifiant not in missed:
                    _record(progress, result)
            pending = [
                item for item in pending
                if not isinstance(item, RowRejection) and item.identifiant in missed
            ]
            if not pending:
                return
        raise RuntimeError(f"import: structures changed concurrently: {identifiants(pending)}")


def _take(rows: Iterator[ImportItem], n: int) -> list[ImportItem]:
    return list(itertools.islice(rows, n))


def _skip(rows: Iterator[ImportItem], n: int) -> None:
    for _ in itertools.islice(rows, n):
        pass
