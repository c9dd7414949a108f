"""Operators: deliveries (failed ones to re-send) and Suivi des flux aggregates."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from chorale_notifications.adapters.deliveries import Deliveries
from chorale_notifications.adapters.flow_stats import FlowStats
from chorale_notifications.domain import errors, stats
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer

Statut = Literal["PENDING", "SENDING", "SENT", "FAILED", "DISABLED"]


def delivery_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "userId": doc["userId"],
        "categorie": doc["categorie"],
        "sujet": doc["subject"],
        "adresse": doc.get("to"),
        "statut": doc["statut"],
        "tentatives": doc.get("attemptsTotal", 0),
        "prochaineTentative": doc.get("nextAttemptAt") if doc["statut"] == "PENDING" else None,
        "derniereReponse": doc.get("derniereReponse"),
        "evenementSource": {"id": doc["sourceEventId"], "type": doc["eventType"]},
        "dateCreation": doc["createdAt"],
        "dateMiseAJour": doc.get("updatedAt"),
        "journal": [
            {"date": e.get("at"), "tentative": e.get("tentative"), "resultat": e["resultat"],
             "reponseSmtp": e.get("reponse"), "adresse": e.get("adresse")}
            for e in doc.get("log") or []
        ],
    }


def operations_router(deliveries: Deliveries, flow_stats: FlowStats, authorizer: Authorizer,
                      current: Any, wake: Callable[[], None]) -> APIRouter:
    router = APIRouter(tags=["Opérations"])

    async def operator(principal: Annotated[Principal, Depends(current)]) -> Principal:
        await authorizer.require_operator(principal)
        return principal

    Operator = Annotated[Principal, Depends(operator)]

    @router.get("/v1/operations/deliveries", summary="Envois par statut (FAILED : à relancer)")
    async def list_deliveries(
        _op: Operator,
        statut: Annotated[Statut, Query()] = "FAILED",
        page: Annotated[int, Query(ge=1)] = 1,
        taille: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        docs, total = await deliveries.by_status(statut, (page - 1) * taille, taille)
        return {"envois": [delivery_view(d) for d in docs], "page": page, "taille": taille,
                "total": total}

    @router.get("/v1/operations/deliveries/{delivery_id}", summary="Un envoi et son journal")
    async def get_delivery(delivery_id: str,
                           _op: Operator) -> dict[str, Any]:
        doc = await deliveries.get(delivery_id)
        if doc is None:
            raise errors.delivery_not_found(delivery_id)
        return delivery_view(doc)

    @router.post("/v1/operations/deliveries/{delivery_id}/retry",
                 summary="Relancer un envoi en échec")
    async def retry(delivery_id: str, op: Operator) -> dict[str, Any]:
        doc = await deliveries.requeue(delivery_id, op.subject)
        if doc is None:
            raise errors.delivery_not_found(delivery_id)
        if doc["statut"] != "PENDING":
            raise errors.delivery_not_retryable(delivery_id, doc["statut"])
        wake()
        return delivery_view(doc)

    @router.get("/v1/suivi-flux/stats", tags=["Suivi des flux"],
                summary="Flux par statut, par heure ou par jour, par partenaire")
    async def flow_statistics(
        _op: Operator,
        granularite: Annotated[stats.Granularity, Query()] = "heure",
        depuis: Annotated[datetime | None, Query()] = None,
        jusqua: Annotated[datetime | None, Query()] = None,
        partenaire: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        try:
            start, end = stats.window(_utc(depuis), _utc(jusqua), granularite,
                                      datetime.now(UTC))
        except ValueError as exc:
            raise errors.invalid_range(str(exc)) from None
        docs = await flow_stats.between(start, end, partenaire)
        return {**stats.assemble(docs, granularite, start, end), "partenaire": partenaire}

    return router


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
