"""Resuming after a crash, so that every flow ends in exactly one terminal status.

At start-up, for this instance:
1. EDI batches whose journal is still there: files already archived but not recorded are
   recorded now (files still in in/ are simply taken again by the watcher);
2. the pending generations the previous run left: every flow not marked finished there is
   recorded again in a new generation (restarts counted in `recoveries`), its receipt events
   published again (same `event_id`s), and processed; then the old generations are dropped.
   A flow found unfinished after more than `max_recoveries` restarts (a file that crashes the
   service?) is set IN_INCIDENTE.
Every `recovery_interval`, the same for the generations and journals of replicas silent for
longer than `stale_after` (each claimed by one replica with a unique insert).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from chorale_intake.adapters.archive import Archive, Journal
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.domain.flow import Flow
from chorale_intake.service_layer.announcer import Announcer
from chorale_intake.service_layer.events import restore_events
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_intake.service_layer.processing import Work
from chorale_intake.service_layer.receipts import Receipts
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class Recovery:
    def __init__(
        self, *, store: FlowStore, archive: Archive, announcer: Announcer, receipts: Receipts,
        pipeline: Pipeline, owner: str, producer: str, max_recoveries: int, stale_after: float,
    ):
        self._store = store
        self._archive = archive
        self._announcer = announcer
        self._receipts = receipts
        self._pipeline = pipeline
        self._owner = owner
        self._producer = producer
        self._max_recoveries = max_recoveries
        self._stale_after = stale_after
        self.done = asyncio.Event()

    async def at_start(self) -> None:
        await self._store.pending.heartbeat()
        await self._journals(older_than=None)
        names = await self._store.pending.collections(mine=True)
        names += await self._store.pending.claimed_by_me()
        resumed = await self._resume(names)
        self.done.set()
        log.info("recovery_done", generations=len(names), flows=resumed)

    async def periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._store.pending.heartbeat()
            await self._journals(older_than=self._stale_after)
            before = datetime.now(UTC) - timedelta(seconds=self._stale_after)
            names = await self._store.pending.abandoned(before)
            if names:
                log.warning("generations_taken_over", generations=names)
                await self._resume(names)

    async def _journals(self, *, older_than: float | None) -> None:
        journals: list[Journal] = await asyncio.to_thread(
            lambda: list(self._archive.journals(older_than=older_than, now=time.time()))
        )
        for journal in journals:
            flows = []
            for move in journal.moves:
                # A journal outlives its batch only until the batch is recorded, and a recorded
                # flow waits in a pending generation until it is terminal: no need to look in
                # `flows`.
                if await self._store.pending.find(move.number, 1) is not None:
                    continue  # recorded before the crash
                stored = await asyncio.to_thread(self._archive.settle_move, move)
                if stored is None:
                    continue  # never left in/: the watcher takes it again
                flows.append(self._receipts.new_flow(
                    number=move.number, channel="EDI", account=move.account,
                    partner=move.partner, name=move.name, declared=None, stored=stored,
                    received_at=datetime.fromisoformat(move.received_at),
                    correlation_id=move.number))
            if not await self._reserve(len(flows)):
                return
            recorded = await self._receipts.record(flows)
            await self._pipeline.unreserve(len(flows) - len(recorded))
            await self._pipeline.enter(recorded)
            self._archive.drop_journal(journal.path)
            log.warning("journal_recovered", journal=journal.path.name, recorded=len(recorded))

    async def _reserve(self, count: int) -> bool:
        """Slots for `count` flows; False if the service stops first."""
        while count > 0:
            granted = await self._pipeline.reserve(count)
            if granted == 0:
                return False
            count -= granted
        return True

    async def _resume(self, names: Sequence[str]) -> int:
        """Restart every unfinished flow of these generations, then drop them. A flow whose
        terminal record was written just before the crash meets it again when it is
        recorded (see `TerminalRecords`): it is then only announced again."""
        pending = [restore_events(f, producer=self._producer)
                   for f in await self._store.pending.leftovers(names)]
        poisoned: list[Flow] = []
        unfinished: list[Flow] = []
        for flow in pending:
            again = flow.model_copy(update={"recoveries": flow.recoveries + 1,
                                            "owner": self._owner})
            (poisoned if again.recoveries > self._max_recoveries else unfinished).append(again)
        # Receipt events may never have left: publish them again, before anything later.
        await self._announcer.again(pending)
        if poisoned:
            await self._store.add_pending(poisoned)  # in a new generation, before the drop
            await self._pipeline.give_up([
                Work(f, failure=f"traitement interrompu {f.recoveries - 1} fois (arrêt du "
                     "service pendant son traitement)")
                for f in poisoned
            ])
        if unfinished:
            if not await self._reserve(len(unfinished)):
                return len(pending)  # stopping: the old generations stay for the next start
            await self._store.add_pending(unfinished)  # in a new generation, before the drop
            self._pipeline.resume(unfinished)
        await self._store.pending.drop(names)
        if pending:
            log.warning("flows_resumed", poisoned=len(poisoned), resumed=len(unfinished))
        return len(pending)
