"""/v1/structures/{identifiant}/services: create, list, modify, activate, deactivate."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from chorale_runtime.auth import Principal
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.entrypoints.bodies import ServiceChanges, ServiceCreation
from chorale_structures.entrypoints.context import HttpContext, actor_of
from chorale_structures.entrypoints.views import service_view
from chorale_structures.service_layer import services as cases
from chorale_structures.service_layer.structure_changes import load

PREFIX = "/v1/structures/{identifiant}/services"


def build_router(http: HttpContext, store: StructureStore) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["services"])
    access, current = http.access, http.current
    Caller = Annotated[Principal, Depends(current)]

    @router.post("", status_code=201, summary="Créer un service")
    async def create(
        identifiant: str, request: Request, response: Response,
        body: ServiceCreation, principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        service = await cases.create_service(
            store, identifiant, body.sent(), actor_of(request, principal)
        )
        response.headers["Location"] = f"{request.url.path}/{service.codeService}"
        return service_view(service)

    @router.get("", summary="Lister les services")
    async def list_services(identifiant: str, principal: Caller) -> dict:
        await access.read(principal, identifiant)
        stored = await load(store, identifiant)
        services = sorted(stored.services.values(), key=lambda s: s.codeService)
        return {"listeServices": [service_view(s) for s in services], "total": len(services)}

    @router.patch("/{codeService}", summary="Modifier un service")
    async def modify(
        identifiant: str, codeService: str, request: Request,
        body: ServiceChanges, principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant, codeService.strip().upper())
        actor = actor_of(request, principal)
        return service_view(
            await cases.modify_service(store, identifiant, codeService, body.sent(), actor)
        )

    def statut_endpoint(active: bool):
        async def endpoint(
            identifiant: str, codeService: str, request: Request,
            principal: Caller,
        ) -> dict:
            await access.write(principal, identifiant, codeService.strip().upper())
            actor = actor_of(request, principal)
            return service_view(
                await cases.set_service_statut(store, identifiant, codeService, active, actor)
            )

        return endpoint

    router.add_api_route("/{codeService}/activation", statut_endpoint(True), methods=["POST"],
                         summary="Activer un service")
    router.add_api_route("/{codeService}/desactivation", statut_endpoint(False),
                         methods=["POST"], summary="Désactiver un service")
    return router
