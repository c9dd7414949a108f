"""One import batch from file lines to published events, in three steps the worker overlaps:
while batch k's events go to Kafka, batch k+1 is written and batch k+2 is read and planned.

- :meth:`BatchPipeline.prepare` reads the next lines and plans them (in a worker thread), or
  leaves the plan for later when the batch must first load structures it names (a lookup must
  see the previous batch's writes);
- :meth:`BatchPipeline.write` takes the batch's structures' locks, inserts the new structures
  in one round trip and compares-and-sets the changed ones; lines of structures that existed
  after all, or changed meanwhile, are planned again against their state;
- :meth:`BatchPipeline.publish` publishes the new structures' events, then releases the locks
  (so an API change of a structure the import just created is published after its creation).

See import_runner.py for why the new structures' events are published here rather than stored
in their outbox, and how a replayed batch republishes the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from chorale_contracts import Envelope
from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.domain import ImportOutcome, RowRejection
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.import_batch import (
    BatchPlan,
    ImportItem,
    identifiants,
    lookups_needed,
    plan_batch,
)
from chorale_structures.service_layer.structure_changes import structure_locks

MAX_ROUNDS = 5  # planning rounds of one batch when structures change concurrently
Publish = Callable[[Sequence[Envelope]], Awaitable[None]]
Result = ImportOutcome | RowRejection


class PlanningFailed(Exception):
    """An unexpected error while planning (nothing of the batch is written yet)."""


class CountingLines:
    def __init__(self, file: Iterator[bytes]):
        self._file = file
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._file:
            self.bytes_read += len(line)
            yield line


@dataclass
class Prepared:
    batch: list[ImportItem]
    plan: BatchPlan | None
    batch_id: str
    bytes_read: int


@dataclass
class Written:
    records: int
    bytes_read: int
    results: list[Result] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    locks: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)


class BatchPipeline:
    def __init__(self, store: StructureStore, publish: Publish, job_id: str, actor: Actor,
                 size: int):
        self.store, self._publish = store, publish
        self.job_id, self.actor, self.size = job_id, actor, size

    async def prepare(self, rows: Iterator[ImportItem], lines: CountingLines,
                      start: int) -> Prepared:
        batch, bytes_read = await asyncio.to_thread(_take, rows, self.size, lines)
        batch_id = f"{self.job_id}:{start}"
        plan = None
        if batch and not lookups_needed(batch):
            plan = await self._plan(batch, {}, batch_id)
        return Prepared(batch, plan, batch_id, bytes_read)

    async def _plan(self, items: list[ImportItem], loaded: dict[str, StoredStructure],
                    batch_id: str) -> BatchPlan:
        actor = self.actor.renewed()
        try:
            return await asyncio.to_thread(plan_batch, items, loaded, today=actor.now.date(),
                                           actor=actor, batch_id=batch_id)
        except Exception as exc:
            raise PlanningFailed(f"{type(exc).__name__}: {exc}") from exc

    async def write(self, prepared: Prepared) -> Written:
        written = Written(len(prepared.batch), prepared.bytes_read)
        await written.locks.enter_async_context(
            structure_locks.hold_many(identifiants(prepared.batch))
        )
        try:
            await self._write_rounds(prepared, written)
        except BaseException:
            await written.locks.aclose()
            raise
        return written

    async def _write_rounds(self, prepared: Prepared, written: Written) -> None:
        pending, plan, loaded = prepared.batch, prepared.plan, {}
        if plan is None:
            loaded = await self.store.get_many(lookups_needed(pending))
            plan = await self._plan(pending, loaded, prepared.batch_id)
        for _ in range(MAX_ROUNDS):
            missed, reload = await self._write(plan, prepared.batch_id, written)
            written.results += [
                result for identifiant, result in plan.results
                if identifiant is None or identifiant not in missed
            ]
            if not missed:
                return
            loaded = {**{k: v for k, v in loaded.items() if k not in missed}, **reload}
            pending = [
                item for item in pending
                if not isinstance(item, RowRejection) and item.identifiant in missed
            ]
            plan = await self._plan(pending, loaded, prepared.batch_id)
        raise RuntimeError(f"import: structures changed concurrently: {identifiants(pending)}")

    async def _write(
        self, plan: BatchPlan, batch_id: str, written: Written
    ) -> tuple[set[str], dict[str, StoredStructure]]:
        """Write the plan; return the structures whose lines must be planned again (they
        existed, or changed meanwhile) with their current state."""
        existing = await self.store.insert_many([stored for stored, _ in plan.inserts])
        found = await self.store.get_many(existing) if existing else {}
        ours = {i for i, s in found.items() if s.import_batch == batch_id}  # a replay
        done = await asyncio.gather(
            *(self.store.replace(version, new, envs) for version, new, envs in plan.updates)
        )
        conflicts = {new.identifiant for (_, new, _), ok in zip(plan.updates, done,
                                                                strict=True) if not ok}
        missed = (existing - ours) | conflicts
        written.envelopes += [
            envelope for stored, envelopes in plan.inserts
            if stored.identifiant not in missed for envelope in envelopes
        ]
        reload = {k: v for k, v in found.items() if k in missed}
        if conflicts:
            reload.update(await self.store.get_many(conflicts))
        return missed, reload

    async def publish(self, written: Written) -> None:
        try:
            await self._publish(written.envelopes)
        finally:
            await written.locks.aclose()


def _take(
    rows: Iterator[ImportItem], n: int, lines: CountingLines
) -> tuple[list[ImportItem], int]:
    """The next ``n`` items and the bytes read for them."""
    return list(itertools.islice(rows, n)), lines.bytes_read


def skip(rows: Iterator[ImportItem], n: int) -> None:
    for _ in itertools.islice(rows, n):
        pass
