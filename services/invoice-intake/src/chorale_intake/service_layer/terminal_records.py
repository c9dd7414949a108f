"""The terminal record of each flow: one unique insert (with the events of
IN_EN_COURS_TRAITEMENT, the terminal status and, when integrated, the invoice: its outbox),
which is what makes a flow's terminal status happen exactly once. An operator's re-run replaces
the incident it re-runs by compare-and-set on `tentative`.

A flow recorded again (a restart or a retry met the record of an earlier attempt) keeps its
first record, which is announced instead: every step after the insert is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence

from chorale_intake import metrics
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.domain.flow import Flow
from chorale_intake.service_layer.events import restore_events, with_events
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class TerminalRecords:
    def __init__(self, store: FlowStore, *, producer: str):
        self._store = store
        self._producer = producer

    async def write(self, terminal: Sequence[Flow]) -> list[Flow]:
        """Record terminal flows with their events; returns their records as stored (a flow
        already finished by someone else keeps its first record). Raises on a technical
        failure: nothing is announced until the records exist."""
        with metrics.timed("terminal_record"):
            flows = [with_events(f, 2, producer=self._producer) for f in terminal]
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

    async def mark_finished(self, flows: Sequence[Flow]) -> None:
        """Terminal and announced: until this, a restart announces them again."""
        with metrics.timed("mark_finished"):
            await self._store.forget_pending(flows)

    async def _existing(self, flow: Flow) -> Flow:
        existing = await self._store.terminal(flow.number)
        if existing is None or existing.tentative < flow.tentative:
            raise RuntimeError(f"terminal record of {flow.number} neither written nor found")
        log.info("flow_already_terminal", numero=flow.number, statut=existing.statut.value)
        return restore_events(existing, producer=self._producer)
