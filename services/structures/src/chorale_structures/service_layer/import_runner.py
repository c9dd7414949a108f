"""The operator import, run in the background one job at a time, batch by batch.

Per batch: parse the next lines (in a worker thread, so the API stays responsive), plan them
(import_batch.py), insert the new structures in one round trip, compare-and-set the changed
ones, publish the new structures' events, then record the progress. Memory is bounded by the
batch size whatever the file size.

Events of new structures do not go through their documents' outbox: on FerretDB every update
of a document scans its whole collection, so relaying 100,000 outboxes one document at a time
would take hours. They are published right after the insert instead, with ids derived from
the batch, and the checkpoint comes after the publication. If the process stops in between,
the job resumes at that batch: the structures it had inserted (marked with the batch's id)
count as inserted again and the same events, same ids, are published again; consumers
de-duplicate them. So no structure exists without its events and no event precedes its
structure. Changes to existing structures keep the usual outbox (few, and compared-and-set).
The lines of a batch replayed after a stop are counted as they are replanned (a structure an
interrupted batch created and later lines of the job changed reads "unchanged").
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from chorale_runtime.csv_safe import restore
from chorale_runtime.logging import get_logger
from chorale_structures.adapters.import_jobs import DONE, FAILED, ImportFiles, ImportJobs, Progress
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain import DomainError, ImportOutcome, RowRejection, iter_import_rows
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.import_pipeline import (
    BatchPipeline,
    CountingLines,
    PlanningFailed,
    Publish,
    Result,
    Written,
    skip,
)

log = get_logger(__name__)
_COUNTER = {
    ImportOutcome.CREATED: "creees",
    ImportOutcome.UPDATED: "modifiees",
    ImportOutcome.UNCHANGED: "inchangees",
}


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """An import allocates millions of short-lived objects (rows, models, events), nearly all
    freed by reference counting; with the default thresholds the cyclic collector runs so
    often, over the service's whole heap, that it takes a large share of the parsing and
    planning time (docs/MEASUREMENTS.md). Collect the youngest generation 100 times less often
    during the import."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 70_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _record(progress: Progress, results: list[Result]) -> None:
    for result in results:
        if isinstance(result, RowRejection):
            progress.counters["rejetees"] += 1
            progress.new_rejections.append({
                "ligne": result.line, "code": str(result.code), "raison": result.reason,
                "identifiant": result.identifiant,
            })
        else:
            progress.counters[_COUNTER[result]] += 1


class ImportWorker:
    def __init__(self, jobs: ImportJobs, files: ImportFiles, store: StructureStore,
                 publish: Publish, *, batch_size: int, max_detailed: int):
        self.jobs, self.files, self.store, self.publish = jobs, files, store, publish
        self.batch_size, self.max_detailed = batch_size, max_detailed
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, job_id: str) -> None:
        self._queue.put_nowait(job_id)

    async def run(self) -> None:
        """The supervised background task: unfinished jobs first, then new ones. An I/O
        failure ends it; the supervisor restarts it and the job resumes where it was."""
        self.files.clean_partials()
        for job in await self.jobs.unfinished():
            await self.run_job(job["_id"])
        while not self._stopping:
            await self.run_job(await self._queue.get())

    async def stop(self, timeout: float = 10) -> None:
        """Finish the batch in flight; the job resumes from there at the next start."""
        self._stopping = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("import_stop_timeout")

    async def run_job(self, job_id: str) -> None:
        job = await self.jobs.get(job_id)
        if job is None or job["statut"] in (DONE, FAILED):
            return
        path = self.files.path(job_id)
        if not path.exists():
            await self._fail(job_id, {"code": "IMPORT_FAILED",
                                      "message": "Import échoué : fichier introuvable."})
            return
        await self.jobs.start(job_id, datetime.now(UTC))
        log.info("import_started", job=job_id, resumed_at=job["lignesTraitees"])
        try:
            with _fewer_collections():
                finished = await self._process(job, path)
        except DomainError as error:  # file-level: unusable header
            await self._fail(job_id, error.to_dict())
            return
        except PlanningFailed as error:
            log.exception("import_planning_failed", job=job_id)
            await self._fail(job_id, {"code": "IMPORT_FAILED",
                                      "message": f"Import interrompu : {error}"})
            return
        if finished:
            await self.jobs.finish(job_id, DONE, datetime.now(UTC))
            self.files.discard(job_id)
            log.info("import_done", job=job_id)

    async def _fail(self, job_id: str, error: dict[str, Any]) -> None:
        await self.jobs.finish(job_id, FAILED, datetime.now(UTC), error)
        self.files.discard(job_id)

    async def _process(self, job: dict[str, Any], path: Any) -> bool:
        progress = Progress(
            records=job["lignesTraitees"], bytes_read=job["octetsTraites"],
            counters={k: job[k] for k in ("creees", "modifiees", "inchangees", "rejetees")},
            detailed=len(job["rejets"]),
        )
        pipeline = BatchPipeline(
            self.store, self.publish, job["_id"],
            Actor(job["demandeur"], job["correlationId"], is_operator=True),
            job.get("tailleLot") or self.batch_size,  # the same batches on every resume
        )
        self._idle.clear()
        with path.open("rb") as file:
            lines = CountingLines(file)
            rows = iter_import_rows(lines, restore)  # exported cells read back as stored
            await asyncio.to_thread(skip, rows, progress.records)
            start = progress.records
            prepared = asyncio.create_task(pipeline.prepare(rows, lines, start))
            publishing: asyncio.Task[None] | None = None
            finished = False
            try:
                while not self._stopping:
                    batch = await prepared
                    if not batch.batch:
                        finished = True
                        break
                    start += len(batch.batch)
                    prepared = asyncio.create_task(pipeline.prepare(rows, lines, start))
                    written = await pipeline.write(batch)
                    try:
                        if publishing is not None:
                            await publishing  # the previous batch: events, then progress
                    except BaseException:
                        await written.locks.aclose()
                        raise
                    publishing = asyncio.create_task(
                        self._publish(pipeline, written, progress, job["_id"])
                    )
                if publishing is not None:
                    await publishing
                return finished
            finally:
                with contextlib.suppress(Exception):
                    await prepared  # the reading thread must be done before the file closes
                if publishing is not None and not publishing.done():
                    await asyncio.wait([publishing])
                self._idle.set()

    async def _publish(self, pipeline: BatchPipeline, written: Written, progress: Progress,
                       job_id: str) -> None:
        """Events first, then the progress that says the batch is done (in batch order)."""
        await pipeline.publish(written)
        _record(progress, written.results)
        progress.records += written.records
        progress.bytes_read = written.bytes_read
        await self.jobs.checkpoint(job_id, progress, self.max_detailed)
