"""Telling a flow's new status: its events to Kafka and its CR (compte rendu) in the partner's
out/ folder, with the metrics and the log line. One component for every status a flow reaches:
received (IN_RECU, IN_EN_ATTENTE_TRAITEMENT), in progress (the CR only: its event leaves with
the terminal ones) and terminal.

The events told are those a record carries (its outbox, see `service_layer.events`), published
with their stored `event_id`s: announcing again after a crash publishes the same events, which
consumers de-duplicate.

The intake publishes right after each write instead of going through the runtime's outbox
relay: the relay's follow-up update of every document (pulling the sent entries) would add a
read and a write per flow to the hot path. Here the "sent" mark is the "finished" marker of the
flow's batch in its pending generation (see `pending_store`); until then a restart publishes
the flow's events again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from chorale_contracts.events.common import FlowStatus
from chorale_intake import metrics
from chorale_intake.adapters.cr_output import CrOutput
from chorale_intake.domain.flow import Etape, Flow
from chorale_runtime.logging import get_logger
from chorale_runtime.publishing import EventPublisher
from chorale_runtime.retry import Backoff, until_done

log = get_logger(__name__)
DEBUG = logging.getLogger(__name__)


def in_progress(flow: Flow, started: datetime) -> Flow:
    """How the CR looks while the flow is being processed."""
    step = Etape(statut=FlowStatus.IN_EN_COURS_TRAITEMENT, date=started)
    return flow.model_copy(
        update={"statut": step.statut, "dateStatut": started,
                "historique": (*flow.historique, step)}
    )


def _events(flows: Sequence[Flow]) -> list[dict]:
    return [e for f in flows for e in f.events]


class Announcer:
    def __init__(self, *, publisher: EventPublisher, output: CrOutput, backoff: Backoff):
        self._publisher = publisher
        self._output = output
        self._backoff = backoff

    async def received(self, flows: Sequence[Flow], *, stopping: Callable[[], bool]) -> bool:
        """Publish the receipt events of recorded flows (retried until done), show their CR;
        False if the service stops before the events could leave (the next start publishes
        them again)."""
        if not await until_done(
            lambda: self._publisher.publish_entries(_events(flows)), backoff=self._backoff,
            failed="receipt_step_failed", step="publish", stopping=stopping,
            on_failure=lambda exc: metrics.failed("publish"),
        ):
            return False
        self._output.later(flows)
        entered: Counter[tuple[str, str]] = Counter()
        for flow in flows:
            for step in flow.historique[len(flow.historique) - flow.etapesAnnoncees:]:
                entered[step.statut.value, flow.canal] += 1
            if DEBUG.isEnabledFor(logging.DEBUG):
                log.debug("flow_received", numero=flow.number, canal=flow.canal,
                          technical_account=flow.technicalAccountId, fichier=flow.nomFichier,
                          taille=flow.tailleOctets, correlation_id=flow.correlationId)
        metrics.entered(entered)
        return True

    def in_progress(self, flows: Sequence[Flow], *, started: datetime) -> None:
        """The CR of flows whose processing starts (shown unless they end within moments)."""
        self._output.later([in_progress(f, started) for f in flows])

    async def terminal(self, flows: Sequence[Flow]) -> None:
        """Publish the events of terminal records, then write their CR (on disk when this
        returns); retried until done: the records exist, only their announcement is left."""
        self._account(flows)

        async def announce() -> None:
            with metrics.timed("publish"):
                await self._publisher.publish_entries(_events(flows))
            with metrics.timed("terminal_cr"):
                await self._output.now(flows)

        await until_done(announce, backoff=self._backoff, failed="flows_announce_failed",
                         flows=len(flows), on_failure=lambda exc: metrics.failed("announce"))

    async def again(self, flows: Sequence[Flow]) -> None:
        """Publish the events of recorded flows once more (recovery: they may never have
        left; same `event_id`s). Raises if the broker refuses."""
        await self._publisher.publish_entries(_events(flows))

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
