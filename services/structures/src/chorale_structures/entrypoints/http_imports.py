"""/v1/structures/imports: the operators' import of the reference list of public structures
(CSV body, processed in the background; poll the job for progress and the report)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from chorale_runtime.auth import Principal
from chorale_runtime.errors import not_found
from chorale_runtime.http import correlation_id_of
from chorale_structures.adapters.import_jobs import ImportFiles, ImportJobs
from chorale_structures.entrypoints.context import HttpContext
from chorale_structures.entrypoints.views import import_view
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.import_runner import ImportWorker

PREFIX = "/v1/structures/imports"


def build_router(
    http: HttpContext, jobs: ImportJobs, files: ImportFiles, worker: ImportWorker
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["import"])
    access, current = http.access, http.current
    Caller = Annotated[Principal, Depends(current)]

    @router.post(
        "", status_code=202, summary="Importer des structures publiques (corps : CSV)",
        openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def start(
        request: Request, response: Response, principal: Caller, nomFichier: str | None = None,
    ) -> dict:
        await access.operator(principal)
        job_id = str(uuid.uuid4())
        size = await files.receive(job_id, request.stream())
        actor = Actor(principal.subject, correlation_id_of(request), True)
        await jobs.create(job_id, requester=principal.subject, correlation_id=actor.correlation_id,
                          filename=nomFichier, size=size, batch_size=worker.batch_size,
                          now=actor.now)
        worker.submit(job_id)
        response.headers["Location"] = f"{PREFIX}/{job_id}"
        job = await jobs.get(job_id)
        assert job is not None
        return import_view(job)

    @router.get("/{idImport}", summary="Progression et compte rendu d'un import")
    async def status(idImport: str, principal: Caller) -> dict:
        await access.operator(principal)
        job = await jobs.get(idImport)
        if job is None:
            raise not_found("IMPORT_NOT_FOUND", "Import introuvable.")
        return import_view(job)

    return router
