"""/v1/annuaire: the directory export (structures sheet or services sheet, CSV or JSON), and
its search as a person looking for the structure to ask a rattachement to uses it."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from chorale_runtime.auth import Principal
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain.structure_search import SearchCriteria
from chorale_structures.entrypoints.context import HttpContext
from chorale_structures.service_layer.directory_export import export_directory
from chorale_structures.service_layer.structure_changes import load, not_found

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

    @router.get("/structures", summary="Rechercher une structure active de l'annuaire")
    async def search(
        principal: Annotated[Principal, Depends(http.current)],
        recherche: Annotated[str, Query(min_length=1, max_length=200)],
        page: int = Query(1, ge=1),
        taille: int = Query(20, ge=1, le=50),
    ) -> dict:
        # What the directory export already gives any signed-in person, one page at a time.
        http.access.user(principal)
        criteria = SearchCriteria(texte=recherche.strip(), statut="ACTIVE")
        total, found = await store.search(
            criteria, [("raisonSociale", 1), ("_id", 1)], (page - 1) * taille, taille)
        return {
            "listeStructures": [
                {"identifiant": row.identifiant, "raisonSociale": row.raisonSociale,
                 "libelleStructure": row.libelleStructure, "typeStructure": row.typeStructure,
                 "ville": row.ville, "codePostal": row.codePostal}
                for row in found
            ],
            "parametresRetour": {"pageCourante": page, "nbResultatsParPage": taille,
                                 "pagesTotales": -(-total // taille), "total": total},
        }

    @router.get("/structures/{identifiant}/services",
                summary="Services actifs d'une structure de l'annuaire")
    async def services(
        identifiant: str, principal: Annotated[Principal, Depends(http.current)]
    ) -> dict:
        http.access.user(principal)
        stored = await load(store, identifiant)
        if stored.structure.statut.value != "ACTIVE":  # as the search: active ones only
            raise not_found(identifiant)
        active = sorted(
            (s for s in stored.services.values() if s.statut.value == "ACTIF"),
            key=lambda s: s.codeService)
        return {
            "identifiant": stored.identifiant,
            "raisonSociale": stored.structure.raisonSociale,
            "listeServices": [{"codeService": s.codeService, "libelle": s.libelle}
                              for s in active],
        }

    return router
