"""An operator re-runs a flow that ended IN_INCIDENTE: it goes back to
IN_EN_ATTENTE_TRAITEMENT (attempt `tentative` + 1) and through the whole pipeline again.

One re-run per attempt: claimed by a unique insert (`flow_reruns`). Its terminal record then
replaces the incident by compare-and-set on `tentative` (see `TerminalRecords`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from chorale_contracts.events.common import FlowStatus
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.domain.flow import Flow
from chorale_intake.domain.outcome import waiting_again
from chorale_intake.service_layer.events import with_events
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_intake.service_layer.receipts import Receipts
from chorale_runtime.errors import ApiError, not_found
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def flow_not_found(number: str) -> ApiError:
    return not_found("FLOW_NOT_FOUND", f"Flux {number[:64]} introuvable.")


async def rerun(
    number: str, *, store: FlowStore, receipts: Receipts, pipeline: Pipeline, owner: str,
    producer: str, operator: str,
) -> Flow:
    current = await store.get(number)
    if current is None:
        raise flow_not_found(number)
    if current.statut is not FlowStatus.IN_INCIDENTE:
        raise ApiError(
            "FLOW_NOT_INCIDENTE",
            f"Seul un flux en incident (IN_INCIDENTE) peut être relancé ; le flux {number} est "
            f"{current.statut.value}.",
            409,
            {"statut": current.statut.value},
        )
    if not pipeline.try_reserve():
        raise ApiError("INTAKE_SATURATED", "Le service de dépôt est saturé ; réessayez.", 503)
    try:
        if not await store.claim_rerun(current):
            raise ApiError("FLOW_RERUN_IN_PROGRESS", f"Le flux {number} est déjà relancé.", 409)
        flow = with_events(waiting_again(current, at=datetime.now(UTC), owner=owner), 1,
                           producer=producer)
        try:
            await receipts.record([flow])
        except BaseException:
            await store.release_rerun(current)
            raise
    except BaseException:
        await pipeline.unreserve(1)
        raise
    log.warning("flow_rerun", numero=number, tentative=flow.tentative, operator=operator,
                correlation_id=flow.correlationId)
    await pipeline.enter([flow])
    return flow
