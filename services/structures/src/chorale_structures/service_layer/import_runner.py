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
import functools
import itertools
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from chorale_contracts import Envelope
from chorale_runtime.logging import get_logger
from chorale_structures.adapters.import_jobs import DONE, FAILED, ImportFiles, ImportJobs, Progress
from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.domain import DomainError, ImportOutcome, RowRejection, iter_import_rows
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.import_batch import (
    BatchPlan,
    ImportItem,
    identifiants,
    lookups_needed,
    plan_batch,
)
from chorale_structures.service_layer.structure_changes import structure_locks

log = get_logger(__name__)
MAX_ROUNDS = 5  # planning rounds of one batch when structures change concurrently
Publish = Callable[[Sequence[Envelope]], Awaitable[None]]
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


class PlanningFailed(Exception):
    """An unexpected error while planning (nothing of the batch is written yet)."""


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
    def __init__(self, jobs: ImportJobs, files: ImportFiles, store: StructureStore,
                 publish: Publish, *, batch_size: int, max_detailed: int):
        self.jobs, self.files, self.store, self.publish = jobs, files, store, publish
        self.batch_size, self.max_detailed = batch_size, max_detailed
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._stopping = False
        self._between_batches = asyncio.Event()
        self._between_batches.set()

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
            await asyncio.wait_for(self._between_batches.wait(), timeout)
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
        size = job.get("tailleLot") or self.batch_size  # the same batches on every resume
        actor = Actor(job["demandeur"], job["correlationId"], is_operator=True)
        with path.open("rb") as file:
            lines = _CountingLines(file)
            rows = iter_import_rows(lines)
            await asyncio.to_thread(_skip, rows, progress.records)
            start = progress.records
            prepare = functools.partial(self._prepare, rows, lines, size, actor, job["_id"])
            prepared = asyncio.create_task(prepare(start))
            while not self._stopping:
                batch, plan, batch_id, bytes_read = await prepared
                if not batch:
                    return True
                start += len(batch)
                # The next batch is read and planned while this one is written, unless it
                # needs lookups (which must see this batch's writes): see _prepare.
                prepared = asyncio.create_task(prepare(start))
                self._between_batches.clear()
                try:
                    await self._apply(batch, plan, actor, progress, batch_id)
                    progress.records += len(batch)
                    progress.bytes_read = bytes_read
                    await self.jobs.checkpoint(job["_id"], progress, self.max_detailed)
                finally:
                    self._between_batches.set()
            prepared.cancel()
        return False

    async def _prepare(
        self, rows: Iterator[ImportItem], lines: _CountingLines, size: int, actor: Actor,
        job_id: str, start: int,
    ) -> tuple[list[ImportItem], BatchPlan | None, str, int]:
        """Read the next batch and plan it when it needs no lookup (None otherwise)."""
        batch, bytes_read = await asyncio.to_thread(_take, rows, size, lines)
        batch_id = f"{job_id}:{start}"
        plan = None
        if batch and not lookups_needed(batch):
            plan = await self._plan(batch, {}, actor.renewed(), batch_id)
        return batch, plan, batch_id, bytes_read

    async def _plan(self, items: list[ImportItem], loaded: dict[str, StoredStructure],
                    actor: Actor, batch_id: str) -> BatchPlan:
        try:
            return await asyncio.to_thread(
                plan_batch, items, loaded, today=actor.now.date(), actor=actor,
                batch_id=batch_id,
            )
        except Exception as exc:
            raise PlanningFailed(f"{type(exc).__name__}: {exc}") from exc

    async def _apply(self, batch: list[ImportItem], plan: BatchPlan | None, actor: Actor,
                     progress: Progress, batch_id: str) -> None:
        pending = batch
        loaded: dict[str, StoredStructure] = {}
        if plan is None:
            loaded = await self.store.get_many(lookups_needed(batch))
            plan = await self._plan(batch, loaded, actor.renewed(), batch_id)
        for _ in range(MAX_ROUNDS):
            async with structure_locks.hold_many(identifiants(pending)):
                missed, reload = await self._write(plan, batch_id)
            for identifiant, result in plan.results:
                if identifiant is None or identifiant not in missed:
                    _record(progress, result)
            if not missed:
                return
            loaded = {k: v for k, v in loaded.items() if k not in missed}
            loaded.update(reload)
            pending = [
                item for item in pending
                if not isinstance(item, RowRejection) and item.identifiant in missed
            ]
            plan = await self._plan(pending, loaded, actor.renewed(), batch_id)
        raise RuntimeError(f"import: structures changed concurrently: {identifiants(pending)}")

    async def _write(
        self, plan: BatchPlan, batch_id: str
    ) -> tuple[set[str], dict[str, StoredStructure]]:
        """Write the plan; return the structures whose lines must be planned again (they
        existed, or changed meanwhile) with their current state."""
        existing = await self.store.insert_many([stored for stored, _ in plan.inserts])
        found = await self.store.get_many(existing) if existing else {}
        ours = {i for i, s in found.items() if s.import_batch == batch_id}  # a replay
        written = await asyncio.gather(
            *(self.store.replace(version, new, envs) for version, new, envs in plan.updates)
        )
        conflicts = {new.identifiant for (_, new, _), ok in zip(plan.updates, written,
                                                                strict=True) if not ok}
        missed = (existing - ours) | conflicts
        await self.publish([
            envelope for stored, envelopes in plan.inserts
            if stored.identifiant not in missed for envelope in envelopes
        ])
        reload = {k: v for k, v in found.items() if k in missed}
        if conflicts:
            reload.update(await self.store.get_many(conflicts))
        return missed, reload


def _take(
    rows: Iterator[ImportItem], n: int, lines: _CountingLines
) -> tuple[list[ImportItem], int]:
    """The next ``n`` items and the bytes read for them."""
    return list(itertools.islice(rows, n)), lines.bytes_read


def _skip(rows: Iterator[ImportItem], n: int) -> None:
    for _ in itertools.islice(rows, n):
        pass
