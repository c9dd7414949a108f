"""Resuming after a crash, so that every flow ends in exactly one terminal status.

At start-up, for this instance:
1. EDI batches whose journal is still there: files already archived but not recorded are
   recorded now (files still in in/ are simply taken again by the watcher);
2. flows left in `flows_pending`: those whose terminal record exists only need their events
   published (again: same `event_id`s) and their pending document dropped; the others have
   their receipt events published again and are processed. A flow found unfinished after more
   than `max_recoveries` restarts (a file that crashes the service?) is set IN_INCIDENTE.
Every `recovery_interval`, the same for flows and journals other replicas left for longer than
`stale_after`, taken over by compare-and-set so that one replica resumes each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from chorale_intake.adapters.archive import Archive, Journal
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.adapters.publisher import Publisher
from chorale_intake.domain.flow import Flow
from chorale_intake.service_layer.finisher import Finisher
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_intake.service_layer.processing import Processor, Work
from chorale_intake.service_layer.receipts import Receipts
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class Recovery:
    def __init__(
        self, *, store: FlowStore, archive: Archive, publisher: Publisher, receipts: Receipts,
        finisher: Finisher, processor: Processor, pipeline: Pipeline, owner: str,
        max_recoveries: int, stale_after: float,
    ):
        self._store = store
        self._archive = archive
        self._publisher = publisher
        self._receipts = receipts
        self._finisher = finisher
        self._processor = processor
        self._pipeline = pipeline
        self._owner = owner
        self._max_recoveries = max_recoveries
        self._stale_after = stale_after
        self.done = asyncio.Event()

    async def at_start(self) -> None:
        await self._journals(older_than=None)
        pending = await self._store.pending_of(self._owner)
        await self._store.count_recovery([f.number for f in pending])
        bumped = [f.model_copy(update={"recoveries": f.recoveries + 1}) for f in pending]
        await self._resume(bumped)
        self.done.set()
        log.info("recovery_done", resumed=len(pending))

    async def periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._journals(older_than=self._stale_after)
            moment = datetime.now(UTC) - timedelta(seconds=self._stale_after)
            taken = []
            for flow in await self._store.pending_before(moment):
                if flow.number in self._pipeline.in_flight:
                    continue
                if await self._store.take_over(flow, self._owner):
                    log.warning("flow_taken_over", numero=flow.number, previous=flow.owner)
                    taken.append(flow.model_copy(
                        update={"owner": self._owner, "recoveries": flow.recoveries + 1}))
            await self._resume(taken)

    async def _journals(self, *, older_than: float | None) -> None:
        journals: list[Journal] = await asyncio.to_thread(
            lambda: list(self._archive.journals(older_than=older_than, now=time.time()))
        )
        for journal in journals:
            flows = []
            for move in journal.moves:
                if await self._store.get(move.number) is not None:
                    continue  # recorded before the crash
                stored = await asyncio.to_thread(self._archive.settle_move, move)
                if stored is None:
                    continue  # never left in/: the watcher takes it again
                flows.append(self._receipts.new_flow(
                    number=move.number, channel="EDI", account=move.account,
                    partner=move.partner, name=move.name, declared=None, stored=stored,
                    received_at=datetime.fromisoformat(move.received_at),
                    correlation_id=move.number))
            recorded = await self._receipts.record(flows)
            if not await self._reserve(len(recorded)):
                return
            await self._receipts.announce(recorded)
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

    async def _resume(self, pending: Sequence[Flow]) -> None:
        finished: list[Flow] = []
        poisoned: list[Flow] = []
        unfinished: list[Flow] = []
        terminals = await asyncio.gather(*(self._store.terminal(f.number) for f in pending))
        for flow, terminal in zip(pending, terminals, strict=True):
            if terminal is not None and terminal.tentative >= flow.tentative:
                finished.append(terminal)
            elif flow.recoveries > self._max_recoveries:
                poisoned.append(flow)
            else:
                unfinished.append(flow)
        # Receipt events may never have left: publish them again, before anything later.
        await self._publisher.publish(e for f in pending for e in f.events)
        if finished:
            await self._finisher.publish_and_forget(finished)
        if poisoned:
            await self._processor.give_up([
                Work(f, failure=f"traitement interrompu {f.recoveries} fois (arrêt du service)")
                for f in poisoned
            ])
        if unfinished and await self._reserve(len(unfinished)):
            self._pipeline.submit(unfinished)
        if pending:
            log.warning("flows_resumed", finished=len(finished), poisoned=len(poisoned),
                        resumed=len(unfinished))
