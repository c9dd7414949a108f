"""/v1/structures/{identifiant}/coordonnees-bancaires: add, list, consult, modify, deactivate."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from chorale_runtime.auth import Principal
from chorale_structures.entrypoints.bodies import BankDetailsChanges, BankDetailsCreation
from chorale_structures.entrypoints.context import HttpContext, actor_of
from chorale_structures.entrypoints.views import versioned_view
from chorale_structures.service_layer.bank_details import BankDetails

PREFIX = "/v1/structures/{identifiant}/coordonnees-bancaires"


def build_router(http: HttpContext, bank: BankDetails) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["coordonnées bancaires"])
    access, current = http.access, http.current
    Caller = Annotated[Principal, Depends(current)]

    @router.post("", status_code=201, summary="Ajouter des coordonnées bancaires")
    async def add(
        identifiant: str, request: Request, response: Response,
        body: BankDetailsCreation, principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        added = await bank.add(identifiant, body.sent(), actor_of(request, principal))
        response.headers["Location"] = f"{request.url.path}/{added.model.idCoordonneeBancaire}"
        return versioned_view(added)

    @router.get("", summary="Lister les coordonnées bancaires")
    async def list_all(identifiant: str, principal: Caller) -> dict:
        await access.read(principal, identifiant)
        found = await bank.list_for(identifiant)
        return {"listeCoordonneesBancaires": [versioned_view(f) for f in found],
                "total": len(found)}

    @router.get("/{idCoordonneeBancaire}", summary="Consulter des coordonnées bancaires")
    async def consult(
        identifiant: str, idCoordonneeBancaire: str, principal: Caller
    ) -> dict:
        await access.read(principal, identifiant)
        return versioned_view(await bank.get(identifiant, idCoordonneeBancaire))

    @router.patch("/{idCoordonneeBancaire}", summary="Modifier des coordonnées bancaires")
    async def modify(
        identifiant: str, idCoordonneeBancaire: str, request: Request,
        body: BankDetailsChanges, principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        actor = actor_of(request, principal)
        changes = body.sent()
        return versioned_view(
            await bank.update(identifiant, idCoordonneeBancaire, changes, actor)
        )

    @router.post("/{idCoordonneeBancaire}/desactivation",
                 summary="Désactiver des coordonnées bancaires")
    async def deactivate(
        identifiant: str, idCoordonneeBancaire: str, request: Request,
        principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        actor = actor_of(request, principal)
        return versioned_view(await bank.deactivate(identifiant, idCoordonneeBancaire, actor))

    return router
