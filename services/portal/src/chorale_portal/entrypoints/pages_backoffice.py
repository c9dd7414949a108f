"""The operators' back office: the import of the reference list of public structures (its
progress and report), the requests queue (creations of public structures, deactivations) with
accept / refuse, the mail deliveries that failed (re-sent on demand), and the designation of a
structure's first gestionnaire principal.

Operators only: anyone else gets « Accès refusé » (403) before any service is called — the
services refuse them too (`require_operator`), this only says it sooner and clearly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.entrypoints.web import (
    call,
    checked_form,
    is_operator,
    redirect,
    render,
    signed_in,
)

OPERATORS_ONLY = ("Le back office est réservé aux opérateurs de la plateforme. Si vous pensez "
                  "devoir y accéder, adressez-vous à l'équipe d'exploitation de Chorale.")
IMPORT_RUNNING = {"RECU", "EN_COURS"}
REQUEST_STATES = {"EN_ATTENTE": "En attente", "ACCEPTEE": "Acceptées", "REFUSEE": "Refusées"}
DELIVERY_STATES = {"FAILED": "En échec", "PENDING": "En attente d'envoi", "SENT": "Envoyés"}
CHUNK = 64 * 1024


async def operator_only(request: Request) -> None:
    if not is_operator(await signed_in(request)):
        raise ApiProblem(403, "FORBIDDEN", OPERATORS_ONLY)


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    await file.seek(0)
    while chunk := await file.read(CHUNK):
        yield chunk


def build_router() -> APIRouter:
    router = APIRouter(prefix="/back-office")

    @router.get("")
    async def overview(request: Request) -> Response:
        await operator_only(request)
        return render(request, "backoffice.html", title="Back office")

    # -- import of the reference list -----------------------------------------------------
    def import_form(request: Request, *, status: int = 200,
                    errors: FormErrors | None = None) -> Response:
        return render(request, "backoffice_import.html", status=status, errors=errors,
                      title="Importer le référentiel des structures publiques")

    @router.get("/imports")
    async def new_import(request: Request) -> Response:
        await operator_only(request)
        return import_form(request)

    @router.post("/imports")
    async def start_import(request: Request) -> Response:
        await operator_only(request)
        form = await checked_form(request)
        file = form.get("fichier")
        if not isinstance(file, UploadFile) or not file.filename or file.size == 0:
            return import_form(request, status=400, errors=FormErrors(fields={
                "fichier": "Fichier du référentiel : choisissez un fichier CSV non vide."}))
        try:
            job = await call(request, "structures", "POST", "/v1/structures/imports",
                             params={"nomFichier": file.filename[:255]},
                             content=_chunks(file), headers={"Content-Type": "text/csv"})
        except ApiProblem as exc:
            return import_form(request, status=exc.status, errors=form_errors(
                exc.code, exc.message, exc.details,
                code_fields={"IMPORT_TOO_LARGE": "fichier"}))
        return redirect(f"/back-office/imports/{quote(job['idImport'], safe='')}",
                        "import_lance")

    @router.get("/imports/{job_id}")
    async def import_report(request: Request, job_id: str) -> Response:
        await operator_only(request)
        job = await call(request, "structures", "GET",
                         f"/v1/structures/imports/{quote(job_id, safe='')}")
        running = job.get("statut") in IMPORT_RUNNING
        return render(request, "backoffice_import_report.html", job=job, running=running,
                      percent=round(100 * float(job.get("progression") or 0)),
                      title="Import du référentiel")

    # -- requests queue -------------------------------------------------------------------
    async def requests_page(request: Request, *, status: int = 200,
                            errors: FormErrors | None = None) -> Response:
        state = request.query_params.get("statut") or "EN_ATTENTE"
        if state not in REQUEST_STATES:
            state = "EN_ATTENTE"
        found = await call(request, "structures", "GET", "/v1/demandes",
                           params={"statut": state})
        rows = sorted(found.get("listeDemandes", []), key=lambda d: d.get("dateDemande") or "")
        return render(request, "backoffice_requests.html", status=status, errors=errors,
                      requests=rows, state=state, states=REQUEST_STATES,
                      title="Demandes des structures")

    @router.get("/demandes")
    async def requests_queue(request: Request) -> Response:
        await operator_only(request)
        return await requests_page(request)

    @router.post("/demandes/{request_id}/{decision}")
    async def decide(request: Request, request_id: str, decision: str) -> Response:
        await operator_only(request)
        if decision not in ("acceptation", "refus"):
            raise ApiProblem(404, "NOT_FOUND", "Cette action n'existe pas.")
        form = await checked_form(request)
        comment = str(form.get("commentaire") or "").strip() or None
        if decision == "refus" and comment is None:
            return await requests_page(request, status=400, errors=FormErrors(top=[
                "Refus : indiquez le motif, il est transmis au demandeur."]))
        try:
            await call(request, "structures", "POST",
                       f"/v1/demandes/{quote(request_id, safe='')}/{decision}",
                       json={"commentaireOperateur": comment})
        except ApiProblem as exc:
            return await requests_page(request, status=exc.status,
                                       errors=FormErrors(top=[exc.message]))
        return redirect("/back-office/demandes", "demande_acceptee" if decision == "acceptation"
                        else "demande_refusee")

    # -- mail deliveries ------------------------------------------------------------------
    async def deliveries_page(request: Request, *, status: int = 200,
                              errors: FormErrors | None = None) -> Response:
        state = request.query_params.get("statut") or "FAILED"
        if state not in DELIVERY_STATES:
            state = "FAILED"
        try:
            page = max(1, int(request.query_params.get("page") or 1))
        except ValueError:
            page = 1
        found = await call(request, "notifications", "GET", "/v1/operations/deliveries",
                           params={"statut": state, "page": page, "taille": 50})
        pages = max(1, -(-int(found.get("total") or 0) // 50))
        return render(request, "backoffice_deliveries.html", status=status, errors=errors,
                      deliveries=found.get("envois", []), total=found.get("total", 0),
                      state=state, states=DELIVERY_STATES, page=page, pages=pages,
                      title="Envois de courriels")

    @router.get("/envois")
    async def deliveries(request: Request) -> Response:
        await operator_only(request)
        return await deliveries_page(request)

    @router.post("/envois/{delivery_id}/relance")
    async def resend(request: Request, delivery_id: str) -> Response:
        await operator_only(request)
        await checked_form(request)
        try:
            await call(request, "notifications", "POST",
                       f"/v1/operations/deliveries/{quote(delivery_id, safe='')}/retry")
        except ApiProblem as exc:
            return await deliveries_page(request, status=exc.status,
                                         errors=FormErrors(top=[exc.message]))
        return redirect("/back-office/envois", "envoi_relance")

    # -- first gestionnaire principal -----------------------------------------------------
    def gp_form(request: Request, form: Any = None, *, status: int = 200,
                errors: FormErrors | None = None) -> Response:
        if form is None:
            form = {"structure": request.query_params.get("structure", "")}
        return render(request, "backoffice_gp.html", status=status, errors=errors, form=form,
                      title="Désigner un gestionnaire principal")

    @router.get("/gestionnaire-principal")
    async def designation_form(request: Request) -> Response:
        await operator_only(request)
        return gp_form(request)

    @router.post("/gestionnaire-principal")
    async def designate(request: Request) -> Response:
        await operator_only(request)
        form = await checked_form(request)
        values = {k: str(form.get(k) or "").strip() for k in ("structure", "email")}
        errors = FormErrors()
        if not values["structure"]:
            errors.add("structure", "Structure : indiquez son identifiant (SIRET).")
        if not values["email"]:
            errors.add("email", "Adresse électronique : indiquez celle du compte à désigner.")
        if errors:
            return gp_form(request, values, status=400, errors=errors)
        try:
            found = await call(request, "identity", "GET", "/v1/users",
                               params={"email": values["email"]})
            users = found.get("utilisateurs", [])
            if not users:
                errors.add("email", "Aucun compte Chorale n'a cette adresse : la personne doit "
                           "d'abord créer son compte et confirmer son adresse.")
                return gp_form(request, values, status=400, errors=errors)
            await call(request, "identity", "PUT", "/v1/structures/"
                       f"{quote(values['structure'], safe='')}/gestionnaire-principal",
                       json={"userId": users[0]["id"]})
        except ApiProblem as exc:
            return gp_form(request, values, status=exc.status, errors=form_errors(
                exc.code, exc.message, exc.details, aliases={"userId": "email"},
                known={"structure", "email"}))
        return redirect("/back-office/gestionnaire-principal", "gp_designe")

    return router
