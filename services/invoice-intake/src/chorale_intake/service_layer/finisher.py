"""Recording terminal flows: one unique insert per flow (its terminal record, with the events
of IN_EN_COURS_TRAITEMENT, the terminal status and, when integrated, the invoice: its outbox).
Then, in the background, the announcement: those events to Kafka, the terminal CR, and the
flow marked finished in its pending generation. Used by processing and incidents; every step is
idempotent, so a crash anywhere is resumed by the recovery running them again (a second
terminal insert meets the first record, which is announced instead).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from chorale_contracts.events.common import FlowStatus
from chorale_intake import metrics
from chorale_intake.adapters.cr_output import CrOutput
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.adapters.publisher import Publisher
from chorale_intake.domain.flow import Etape, Flow
from chorale_intake.service_layer.events import restore_events, with_events
from chorale_runtime.logging import get_logger

log = get_logger(__name__)
DEBUG = logging.getLogger(__name__)


def in_progress(flow: Flow, started: datetime) -> Flow:
    """How the CR looks while the flow is being processed."""
    step = Etape(statut=FlowStatus.IN_EN_COURS_TRAITEMENT, date=started)
    return flow.model_copy(
        update={"statut": step.statut, "dateStatut": started,
                "historique": (*flow.historique, step)}
    )


class Finisher:
    def __init__(
        self,
        *,
        store: FlowStore,
        publisher: Publisher,
        output: CrOutput,
        producer: str,
        on_terminal: Callable[[Sequence[Flow]], None] = lambda flows: None,
    ):
        self._store = store
        self._publisher = publisher
        self.output = output
        self._producer = producer
        self._on_terminal = on_terminal
        self._announcing = asyncio.Semaphore(8)  # batches being announced at once
        self._tasks: set[asyncio.Task[None]] = set()

    def show_in_progress(self, flows: Sequence[Flow], *, started: datetime) -> None:
        self.output.later([in_progress(f, started) for f in flows])

    async def finish(self, terminal: Sequence[Flow]) -> list[Flow]:
        """Record terminal flows, then announce them in the background (the caller goes on
        with its next batch); returns their records as stored (a flow already finished by
        someone else keeps its first record)."""
        with metrics.timed("terminal_record"):
            flows = [with_events(f, 2, producer=self._producer) for f in terminal]
            recorded = await self._record(flows)
        self._account(recorded)
        await self._announcing.acquire()
        task = asyncio.get_running_loop().create_task(self._announce(recorded))
        self._tasks.add(task)
        task.add_done_callback(self._announced)
        return recorded

    def _announced(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._announcing.release()

    async def _announce(self, flows: Sequence[Flow]) -> None:
        """Events, then the CR, then the flows are marked finished in their pending
        generation: until that last step, a restart does the first two again. Retried until
        done (the terminal records exist: only their announcement is left)."""
        delay = 0.1
        while True:
            try:
                with metrics.timed("publish"):
                    await self._publisher.publish(e for f in flows for e in f.events)
                with metrics.timed("terminal_cr"):
                    await self.output.now(flows)
                with metrics.timed("mark_finished"):
                    await self._store.forget_pending(flows)
                break
            except Exception as exc:
                metrics.failed("announce")
                log.warning("flows_announce_failed", flows=len(flows), error=str(exc)[:300],
                            delay=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        self._on_terminal(flows)

    async def drain(self, timeout: float) -> None:
        """At shutdown: let the announcements in progress end (bounded)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def _record(self, flows: list[Flow]) -> list[Flow]:
        first = [f for f in flows if f.tentative == 1]
        inserted = await self._store.add_terminal(first)
        recorded: dict[str, Flow] = {}
        for flow, ok in zip(first, inserted, strict=True):
            recorded[flow.number] = flow if ok else await self._existing(flow)
        for flow in (f for f in flows if f.tentative > 1):
            if await self._store.replace_terminal(flow, flow.tentative - 1):
                recorded[flow.number] = flow
            else:
                recorded[flow.number] = await self._existing(flow)
        return [recorded[f.number] for f in flows]

    async def _existing(self, flow: Flow) -> Flow:
        existing = await self._store.terminal(flow.number)
        if existing is None or existing.tentative < flow.tentative:
            raise RuntimeError(f"terminal record of {flow.number} neither written nor found")
        log.info("flow_already_terminal", numero=flow.number, statut=existing.statut.value)
        return restore_events(existing, producer=self._producer)

    def _account(self, flows: Sequence[Flow]) -> None:
        now = datetime.now(UTC)
        entered: Counter[tuple[str, str]] = Counter()
        for flow in flows:
            entered[FlowStatus.IN_EN_COURS_TRAITEMENT.value, flow.canal] += 1
            entered[flow.statut.value, flow.canal] += 1
            codes = [
                *((e.code, "FLUX") for e in flow.listeErreurTechnique),
                *((e.code, "FACTURE") for e in flow.listeErreurDP),
            ]
            if flow.statut is FlowStatus.IN_REJETE:
                for code, level in codes:
                    metrics.rejected(code, level)
            metrics.FLOW_SECONDS.labels(metrics.SERVICE, flow.statut.value).observe(
                (now - flow.dateDepot).total_seconds()
            )
            # Integrated flows are many and announced on Kafka: their line is DEBUG (skipped
            # before formatting: structlog formats even the lines the level then drops).
            if flow.statut is FlowStatus.IN_INTEGRE and not DEBUG.isEnabledFor(logging.DEBUG):
                continue
            (log.debug if flow.statut is FlowStatus.IN_INTEGRE else log.info)(
                "flow_terminal", numero=flow.number, statut=flow.statut.value,
                canal=flow.canal, codes=sorted({c for c, _ in codes}),
                correlation_id=flow.correlationId, tentative=flow.tentative,
            )
        metrics.entered(entered)
