"""/v1/structures: create (private), search, consult, modify, parameters, (de)activate."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chorale_runtime.auth import Principal
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain import StatutStructure, TypeStructure
from chorale_structures.domain.structure_search import SearchCriteria
from chorale_structures.entrypoints.bodies import (
    ParametersChanges,
    StructureChanges,
    StructureCreation,
)
from chorale_structures.entrypoints.context import HttpContext, actor_of
from chorale_structures.entrypoints.views import listed_view, structure_view
from chorale_structures.service_layer import structures as cases
from chorale_structures.service_layer.structure_changes import load

SORTABLE = ("identifiant", "raisonSociale", "ville", "codePostal", "dateCreation")
SORT_PATTERN = "^-?(" + "|".join(SORTABLE) + ")$"


def _sort(tri: str) -> list[tuple[str, int]]:
    name, direction = (tri[1:], -1) if tri.startswith("-") else (tri, 1)
    field = "_id" if name == "identifiant" else name
    return [(field, direction)] + ([("_id", 1)] if field != "_id" else [])


def build_router(http: HttpContext, store: StructureStore) -> APIRouter:
    router = APIRouter(prefix="/v1/structures", tags=["structures"])
    access, current = http.access, http.current
    Caller = Annotated[Principal, Depends(current)]

    @router.post("", status_code=201, summary="Créer une structure privée (fournisseur)")
    async def create(
        request: Request, response: Response, body: StructureCreation,
        principal: Caller,
    ) -> dict:
        access.user(principal)
        stored = await cases.create_private_structure(
            store, body.sent(), actor_of(request, principal)
        )
        response.headers["Location"] = f"/v1/structures/{stored.identifiant}"
        return structure_view(stored)

    @router.get("", summary="Rechercher des structures")
    async def search(
        principal: Caller,
        identifiant: str | None = None,
        raisonSociale: str | None = None,
        ville: str | None = None,
        codePostal: str | None = None,
        typeStructure: TypeStructure | None = None,
        statut: StatutStructure | None = None,
        page: int = Query(1, ge=1),
        taille: int = Query(20, ge=1, le=200),
        tri: str = Query("raisonSociale", pattern=SORT_PATTERN),
    ) -> dict:
        criteria = SearchCriteria(
            identifiant, raisonSociale, ville, codePostal,
            typeStructure.value if typeStructure else None, statut.value if statut else None,
            restrict_to=await access.visible_structures(principal),
        )
        total, found = await store.search(criteria, _sort(tri), (page - 1) * taille, taille)
        return {
            "listeStructures": [listed_view(row) for row in found],
            "parametresRetour": {
                "pageCourante": page,
                "nbResultatsParPage": taille,
                "pagesTotales": -(-total // taille),
                "total": total,
            },
        }

    @router.get("/{identifiant}", summary="Consulter une structure")
    async def consult(identifiant: str, principal: Caller) -> dict:
        await access.read(principal, identifiant)
        return structure_view(await load(store, identifiant))

    @router.patch("/{identifiant}", summary="Modifier informations générales et adresse")
    async def modify(
        identifiant: str, request: Request, body: StructureChanges,
        principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        actor = actor_of(request, principal)
        return structure_view(
            await cases.update_structure(store, identifiant, body.sent(), actor)
        )

    @router.put("/{identifiant}/parametres", summary="Modifier les paramètres (publique)")
    async def parameters(
        identifiant: str, request: Request, body: ParametersChanges,
        principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        actor = actor_of(request, principal)
        return structure_view(
            await cases.set_parameters(store, identifiant, body.sent(), actor)
        )

    for path, active, summary in (
        ("activation", True, "Activer une structure (opérateur)"),
        ("desactivation", False, "Désactiver une structure (opérateur)"),
    ):
        router.add_api_route(
            f"/{{identifiant}}/{path}", _statut_endpoint(http, store, active),
            methods=["POST"], summary=summary,
        )
    return router


def _statut_endpoint(http: HttpContext, store: StructureStore, active: bool):
    async def endpoint(
        identifiant: str, request: Request, principal: Annotated[Principal, Depends(http.current)]
    ) -> dict:
        await http.access.operator(principal)
        actor = actor_of(request, principal)
        return structure_view(await cases.set_statut(store, identifiant, active, actor))

    return endpoint
