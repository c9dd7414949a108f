"""Approbations: one inbox of the rattachement requests of every structure I manage (GP, or
« Organisation » in modification), its filters (état, structure, service, demandeur), a
request's page to approve it or refuse it with a reason, and the CSV export."""

from __future__ import annotations

import contextlib
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.entrypoints.web import (
    access_denied,
    call,
    checked_form,
    forget_management,
    portal_of,
    redirect,
    remember_management,
    render,
    token_of,
)

PAGE = "/approbations"
FILTERS = ("etat", "structure", "service", "demandeur")
ETATS = {"EN_COURS_DE_VALIDATION": "En cours de validation", "VALIDEE": "Validée",
         "REFUSEE": "Refusée", "DESACTIVEE": "Désactivée", "": "Tous les états"}
DEFAULT_ETAT = "EN_COURS_DE_VALIDATION"


def criteria_of(request: Request) -> dict[str, str]:
    wanted = {name: (request.query_params.get(name) or "").strip()[:200] for name in FILTERS}
    if "etat" not in request.query_params:
        wanted["etat"] = DEFAULT_ETAT  # the inbox: what waits for a decision
    if wanted["etat"] not in ETATS:
        wanted["etat"] = DEFAULT_ETAT
    return wanted


def build_router() -> APIRouter:
    router = APIRouter()

    async def inbox(request: Request, wanted: dict[str, str]) -> tuple[dict, list[dict]]:
        params = {name: value for name, value in wanted.items() if value}
        answer = await call(request, "identity", "GET", "/v1/me/approbations", params=params)
        remember_management(request, answer)
        return answer, answer.get("approbations") or []

    @router.get(PAGE)
    async def approbations(request: Request) -> Response:
        wanted = criteria_of(request)
        answer, rows = await inbox(request, wanted)
        managed = request.state.management
        if not managed.manages_any:
            return access_denied(request, "Les approbations sont réservées aux gestionnaires "
                                 "d'une structure (gestionnaire principal ou profil "
                                 "« Organisation » en modification).")
        structures = {"": "Toutes mes structures"}
        structures.update({m.identifiant: f"{m.raison_sociale} ({m.identifiant})"
                           for m in managed.structures.values()})
        export = PAGE + "/export?" + urlencode(wanted)
        return render(request, "approbations.html", title="Approbations", rows=rows,
                      wanted=wanted, etats=ETATS, structures=structures, export=export,
                      waiting=answer.get("enAttente", 0))

    @router.get(PAGE + "/export")
    async def export(request: Request) -> Response:
        wanted = {k: v for k, v in criteria_of(request).items() if v}
        token = await token_of(request)
        stack = contextlib.AsyncExitStack()
        upstream = await stack.enter_async_context(portal_of(request).api.stream(
            "identity", "/v1/me/approbations?" + urlencode({**wanted, "format": "csv"}),
            token=token))
        return StreamingResponse(
            upstream.aiter_bytes(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="approbations.csv"'},
            background=BackgroundTask(stack.aclose))

    async def request_page(request: Request, rid: str, *, status: int = 200,
                           errors: FormErrors | None = None, form=None) -> Response:
        _, rows = await inbox(request, {"etat": ""})
        if not request.state.management.manages_any:
            return access_denied(request)
        row = next((r for r in rows if r.get("id") == rid), None)
        if row is None:
            return render(request, "error.html", status=404, title="Demande introuvable",
                          heading="Demande introuvable",
                          text="Cette demande n'existe pas ou ne relève pas de vos structures.")
        return render(request, "approbation.html", status=status, errors=errors,
                      form=form or {}, title="Approbation", row=row)

    @router.get(PAGE + "/{rid}")
    async def one(request: Request, rid: str) -> Response:
        return await request_page(request, rid)

    @router.post(PAGE + "/{rid}/{decision}")
    async def decide(request: Request, rid: str, decision: str) -> Response:
        form = await checked_form(request)
        if decision not in ("approuver", "refuser"):
            return await request_page(request, rid, status=404)
        body, errors = forms.approbation_decision(decision, form)
        action = "approve" if decision == "approuver" else "refuse"
        if not errors:
            try:
                await call(request, "identity", "POST",
                           f"/v1/rattachements/{quote(rid, safe='')}/{action}", json=body)
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details,
                                     code_fields={"COMMENT_REQUIRED": "motif"},
                                     known={"motif", "commentaireApprobation"})
            else:
                forget_management(request)
                return redirect(PAGE, "demande_approuvee" if action == "approve"
                                else "demande_refusee")
        return await request_page(request, rid, status=400, errors=errors, form=form)

    return router
