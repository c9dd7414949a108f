"""/v1/structures/{identifiant}/pieces-jointes: upload (multipart, 4 MiB), list, download,
delete."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from chorale_runtime.auth import Principal
from chorale_structures.entrypoints.context import HttpContext, actor_of
from chorale_structures.entrypoints.views import attachment_view
from chorale_structures.service_layer.attachments import Attachments

PREFIX = "/v1/structures/{identifiant}/pieces-jointes"


def build_router(http: HttpContext, attachments: Attachments) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["pièces jointes"])
    access, current = http.access, http.current
    Caller = Annotated[Principal, Depends(current)]

    @router.post(
        "", status_code=201, summary="Déposer une pièce jointe (multipart, champ fichier)",
        openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
            "type": "object", "properties": {"fichier": {"type": "string", "format": "binary"}},
        }}}}},
    )
    async def upload(
        identifiant: str, request: Request, response: Response,
        principal: Caller,
    ) -> dict:
        await access.write(principal, identifiant)
        doc = await attachments.upload(
            identifiant, request.headers.get("content-type"),
            request.headers.get("content-length"), request.stream(),
            actor_of(request, principal),
        )
        response.headers["Location"] = f"{request.url.path}/{doc['idPieceJointe']}"
        return attachment_view(doc)

    @router.get("", summary="Lister les pièces jointes")
    async def list_all(identifiant: str, principal: Caller) -> dict:
        await access.read(principal, identifiant)
        docs = await attachments.list_for(identifiant)
        return {"listePiecesJointes": [attachment_view(d) for d in docs], "total": len(docs)}

    @router.get("/{idPieceJointe}", summary="Télécharger une pièce jointe",
                response_class=Response)
    async def download(
        identifiant: str, idPieceJointe: str, principal: Caller
    ) -> Response:
        await access.read(principal, identifiant)
        doc, data = await attachments.download(identifiant, idPieceJointe)
        return Response(
            data,
            media_type=doc["typeContenu"],
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc['nom'])}",
                "X-Content-Type-Options": "nosniff",
                "X-Checksum-Sha256": doc["sha256"],
            },
        )

    @router.delete("/{idPieceJointe}", status_code=204, summary="Supprimer une pièce jointe")
    async def delete(
        identifiant: str, idPieceJointe: str, request: Request,
        principal: Caller,
    ) -> Response:
        await access.write(principal, identifiant)
        await attachments.delete(identifiant, idPieceJointe, actor_of(request, principal))
        return Response(status_code=204)

    return router
