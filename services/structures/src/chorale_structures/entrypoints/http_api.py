"""HTTP API of the structures service."""

from __future__ import annotations

from fastapi import APIRouter, Request

from chorale_runtime.errors import not_found
from chorale_runtime.http import correlation_id_of
from chorale_structures.adapters.structure_repository import StructureRepository
from chorale_structures.service_layer.create_structure import CreateStructure, create_structure


def build_router(repo: StructureRepository) -> APIRouter:
    router = APIRouter(prefix="/v1/structures", tags=["structures"])

    @router.post("", status_code=201, summary="Créer une structure")
    async def post_structure(body: CreateStructure, request: Request) -> dict:
        doc = await create_structure(
            body, repo, created_by=None, correlation_id=correlation_id_of(request)
        )
        return _public(doc)

    @router.get("/{identifiant}", summary="Consulter une structure")
    async def get_structure(identifiant: str) -> dict:
        doc = await repo.get(identifiant)
        if doc is None:
            raise not_found("STRUCTURE_NOT_FOUND", f"Structure {identifiant} introuvable.")
        return _public(doc)

    return router


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("_id", "outbox")}
