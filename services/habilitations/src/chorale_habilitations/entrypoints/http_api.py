"""HTTP API of the habilitations service (documented in docs/api.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain.catalogue import catalogue
from chorale_habilitations.domain.grants import GrantState
from chorale_habilitations.domain.listing import table
from chorale_habilitations.service_layer import administration, queries
from chorale_habilitations.service_layer.context import Context
from chorale_habilitations.service_layer.queries import GrantFilter
from chorale_habilitations.service_layer.writer import Cause
from chorale_runtime.auth import Principal
from chorale_runtime.authz import AccessRequest
from chorale_runtime.csv_safe import csv_document
from chorale_runtime.http import correlation_id_of

Format = Annotated[str, Query(pattern="^(json|csv)$", description="json ou csv")]


class AddBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    userId: str = Field(min_length=1, max_length=200)
    application: Application
    mode: Mode
    codeService: str | None = Field(None, min_length=1, max_length=100)


class ModeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Mode
    version: int | None = Field(None, ge=1, description="Refuse (409) if it changed since")


def _state(state: GrantState) -> dict[str, Any]:
    k = state.key
    return {
        "grantId": state.grant_id, "userId": k.user_id, "structure": k.structure,
        "codeService": k.code_service, "application": k.application.value,
        "mode": state.mode.value, "active": state.active, "reason": state.reason,
        "version": state.version, "updatedBy": state.actor,
    }


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    return csv_document(table(rows))


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    return Response(as_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def build_router(ctx: Context, current: Callable[..., Awaitable[Principal]]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["habilitations"])
    caller = Depends(current)

    def cause(request: Request) -> Cause:
        return Cause(correlation_id_of(request))

    @router.get("/applications", summary="Catalogue des applications et de leurs profils")
    async def applications() -> list[dict]:
        return catalogue()

    @router.get("/me/habilitations", summary="Mes habilitations (CSV possible)",
                response_model=None)
    async def my_habilitations(
        structure: str | None = None, application: Application | None = None,
        codeService: str | None = None, mode: Mode | None = None, format: Format = "json",
        principal: Principal = caller,
    ) -> Response | dict:
        rows = await queries.mine(ctx, principal, GrantFilter(
            structure, None, application, codeService, mode))
        if format == "csv":
            return _csv(rows, "mes-habilitations")
        return {"habilitations": rows}

    @router.get("/structures/{identifiant}/habilitations", response_model=None,
                summary="Habilitations des utilisateurs d'une structure (CSV possible)")
    async def structure_habilitations(
        identifiant: str, userId: str | None = None,
        application: Application | None = None, codeService: str | None = None,
        mode: Mode | None = None, format: Format = "json", principal: Principal = caller,
    ) -> Response | dict:
        rows = await queries.of_structure(ctx, principal, identifiant, GrantFilter(
            None, userId, application, codeService, mode))
        if format == "csv":
            return _csv(rows, f"habilitations-{identifiant}")
        return {"habilitations": rows}

    @router.post("/structures/{identifiant}/habilitations", status_code=201,
                 summary="Ajouter une habilitation à un utilisateur rattaché")
    async def add(identifiant: str, body: AddBody, request: Request,
                  principal: Principal = caller) -> dict:
        change = await administration.add(
            ctx, principal, identifiant, body.userId, body.application, body.mode,
            body.codeService, cause(request))
        return _state(change.after)

    @router.patch("/habilitations/{grantId}", summary="Changer le mode d'une habilitation")
    async def change(grantId: str, body: ModeBody, request: Request,
                     principal: Principal = caller) -> dict:
        state = await administration.change_mode(
            ctx, principal, grantId, body.mode, body.version, cause(request))
        return _state(state)

    @router.delete("/habilitations/{grantId}", summary="Supprimer une habilitation")
    async def remove(grantId: str, request: Request, version: int | None = Query(None, ge=1),
                     principal: Principal = caller) -> dict:
        return _state(await administration.remove(ctx, principal, grantId, version,
                                                  cause(request)))

    @router.delete("/structures/{identifiant}/users/{userId}/habilitations",
                   summary="Supprimer toutes les habilitations d'un utilisateur")
    async def remove_all(identifiant: str, userId: str, request: Request,
                         codeService: str | None = None, principal: Principal = caller) -> dict:
        removed = await administration.remove_all(
            ctx, principal, identifiant, userId, codeService, cause(request))
        return {"revoked": len(removed), "habilitations": [_state(s) for s in removed]}

    @router.get("/decisions", summary="Décision d'accès (la règle partagée par les services)")
    async def decisions(
        userId: str, structure: str, application: Application,
        mode: Mode, codeService: str | None = None, principal: Principal = caller,
    ) -> dict:
        decided = await queries.decision(
            ctx, principal, userId, AccessRequest(structure, application, mode, codeService))
        return {"allowed": decided.allowed, "reason": decided.reason,
                "message": decided.message}

    return router
