"""/v1/demandes: requests for creating a public structure or deactivating a structure, and the
operators' decisions."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from chorale_runtime.auth import Principal
from chorale_runtime.errors import forbidden
from chorale_structures.domain.requests import StatutDemande, TypeDemande
from chorale_structures.entrypoints.bodies import Decision, RequestSubmission
from chorale_structures.entrypoints.context import HttpContext, actor_of
from chorale_structures.entrypoints.views import versioned_view
from chorale_structures.service_layer.requests import Requests


def build_router(http: HttpContext, requests: Requests) -> APIRouter:
    router = APIRouter(prefix="/v1/demandes", tags=["demandes"])
    access, current = http.access, http.current
    Caller = Annotated[Principal, Depends(current)]

    @router.post("", status_code=201, summary="Déposer une demande (création, désactivation)")
    async def submit(
        request: Request, response: Response, body: RequestSubmission,
        principal: Caller,
    ) -> dict:
        access.user(principal)
        sent = body.sent()
        if sent.get("type") == TypeDemande.DESACTIVATION_STRUCTURE:
            await access.write(principal, str(sent.get("identifiant") or ""))
        submitted = await requests.submit(sent, actor_of(request, principal))
        response.headers["Location"] = f"/v1/demandes/{submitted.model.idDemande}"
        return versioned_view(submitted)

    @router.get("", summary="Lister les demandes (opérateurs)")
    async def list_all(
        principal: Caller, statut: StatutDemande | None = None
    ) -> dict:
        await access.operator(principal)
        found = await requests.list_requests(statut.value if statut else None)
        return {"listeDemandes": [versioned_view(f) for f in found], "total": len(found)}

    @router.get("/{idDemande}", summary="Consulter une demande (opérateur ou demandeur)")
    async def consult(idDemande: str, principal: Caller) -> dict:
        access.user(principal)
        found = await requests.get(idDemande)
        if not principal.is_operator and found.model.demandeur != principal.subject:
            raise forbidden()
        return versioned_view(found)

    def decision(decide):
        async def endpoint(
            idDemande: str, request: Request, principal: Caller, body: Decision | None = None,
        ) -> dict:
            await access.operator(principal)
            comment = body.commentaireOperateur if body else None
            return versioned_view(await decide(idDemande, comment, actor_of(request, principal)))

        return endpoint

    router.add_api_route("/{idDemande}/acceptation", decision(requests.accept),
                         methods=["POST"], summary="Accepter une demande (opérateurs)")
    router.add_api_route("/{idDemande}/refus", decision(requests.refuse), methods=["POST"],
                         summary="Refuser une demande (opérateurs, motif requis)")
    return router
