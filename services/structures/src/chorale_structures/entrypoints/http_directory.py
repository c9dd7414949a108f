"""/v1/annuaire: the directory export (structures sheet or services sheet, CSV or JSON)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from chorale_runtime.auth import Principal
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.entrypoints.context import HttpContext
from chorale_structures.service_layer.directory_export import export_directory

MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def build_router(http: HttpContext, store: StructureStore, batch_size: int) -> APIRouter:
    router = APIRouter(prefix="/v1/annuaire", tags=["annuaire"])

    @router.get("", summary="Exporter l'annuaire", response_class=StreamingResponse)
    async def export(
        principal: Annotated[Principal, Depends(http.current)],
        format: Literal["json", "csv"] = "json",
        feuille: Literal["structures", "services"] = "structures",
    ) -> StreamingResponse:
        http.access.user(principal)
        return StreamingResponse(
            export_directory(store, format, feuille, batch_size),
            media_type=MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="annuaire-{feuille}.{format}"'},
        )

    return router
