"""Recording terminal flows: one unique insert per flow (its terminal record, with the events
of IN_EN_COURS_TRAITEMENT, the terminal status and, when integrated, the invoice), then the
events to Kafka, then the flow leaves `flows_pending`, then its CR. Used by processing,
incidents and recovery alike; every step is idempotent, so a crash anywhere is resumed by
running it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from chorale_contracts.events.common import FlowStatus
from chorale_intake import metrics
from chorale_intake.adapters.edi_folders import EdiFolders
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.adapters.publisher import Publisher
from chorale_intake.domain.flow import Etape, Flow
from chorale_intake.service_layer.events import with_events
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


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
        folders: EdiFolders,
        producer: str,
        on_terminal: Callable[[Sequence[Flow]], None] = lambda flows: None,
    ):
        self._store = store
        self._publisher = publisher
        self._folders = folders
        self._producer = producer
        self._on_terminal = on_terminal

    async def show(self, flows: Sequence[Flow]) -> None:
        """(Re)write the CR of each EDI flow in its partner's out/ folder."""
        edi = [f for f in flows if f.canal == "EDI"]
        if edi:
            await asyncio.to_thread(self._write_crs, edi)

    def _write_crs(self, flows: Sequence[Flow]) -> None:
        for flow in flows:
            try:
                self._folders.write_cr(flow.technicalAccountId, flow.number, flow.compte_rendu())
            except OSError as exc:  # the CR is also served over HTTP; never block the flow
                log.warning("cr_write_failed", numero=flow.number, error=str(exc))

    async def show_in_progress(self, flows: Sequence[Flow], *, started: datetime) -> None:
        await self.show([in_progress(f, started) for f in flows])

    async def finish(self, terminal: Sequence[Flow]) -> list[Flow]:
        """Record, announce and show terminal flows; returns their records as stored (a flow
        already finished by someone else keeps its first record)."""
        started = time.perf_counter()
        flows = [with_events(f, 2, producer=self._producer) for f in terminal]
        recorded = await self._record(flows)
        await self.publish_and_forget(recorded)
        metrics.stage("finalise", time.perf_counter() - started)
        self._account(recorded)
        return recorded

    async def publish_and_forget(self, flows: Sequence[Flow]) -> None:
        """Events, then the CR, then drop the pending document: until that last step, a
        restart does the first two again."""
        await self._publisher.publish(e for f in flows for e in f.events)
        await self.show(flows)
        await self._store.forget_pending(f.number for f in flows)
        self._on_terminal(flows)

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
        return existing

    def _account(self, flows: Sequence[Flow]) -> None:
        now = datetime.now(UTC)
        for flow in flows:
            metrics.entered(FlowStatus.IN_EN_COURS_TRAITEMENT.value, flow.canal)
            metrics.entered(flow.statut.value, flow.canal)
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
            log.info(
                "flow_terminal", numero=flow.number, statut=flow.statut.value,
                canal=flow.canal, codes=sorted({c for c, _ in codes}),
                correlation_id=flow.correlationId, tentative=flow.tentative,
            )
