"""Mes rattachements: the structures and services I am attached to or asked to join, a search
of the directory to find one (a person not yet attached anywhere must find it), the request
with its comment (mandatory, as on Chorus Pro), and « Me détacher »."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.entrypoints.web import (
    call,
    checked_form,
    forget_management,
    redirect,
    render,
    signed_in,
)

PAGE = "/mon-compte/rattachements"
SEARCH_SIZE = 20


async def my_rattachements(request: Request) -> list[dict]:
    answer = await call(request, "identity", "GET", "/v1/me/rattachements") or {}
    return answer.get("rattachements") or []


async def directory_entry(request: Request, identifiant: str) -> dict:
    return await call(request, "structures", "GET",
                      f"/v1/annuaire/structures/{quote(identifiant, safe='')}/services")


def build_router() -> APIRouter:
    router = APIRouter()

    async def list_page(request: Request, *, status: int = 200,
                        errors: FormErrors | None = None) -> Response:
        return render(request, "rattachements.html", status=status, errors=errors,
                      title="Mes rattachements", rattachements=await my_rattachements(request))

    @router.get(PAGE)
    async def rattachements(request: Request) -> Response:
        return await list_page(request)

    # -- find a structure -----------------------------------------------------------------
    @router.get(PAGE + "/demande")
    async def search(request: Request) -> Response:
        await signed_in(request)
        text = (request.query_params.get("recherche") or "").strip()[:200]
        found: list[dict] = []
        total = 0
        if text:
            answer = await call(request, "structures", "GET", "/v1/annuaire/structures",
                                params={"recherche": text, "taille": SEARCH_SIZE})
            found = answer.get("listeStructures") or []
            total = (answer.get("parametresRetour") or {}).get("total", len(found))
        return render(request, "rattachement_recherche.html",
                      title="Demander un rattachement", recherche=text, structures=found,
                      total=total, size=SEARCH_SIZE)

    # -- ask to be attached ---------------------------------------------------------------
    async def request_form(request: Request, identifiant: str, *, status: int = 200,
                           errors: FormErrors | None = None, form=None) -> Response:
        entry = await directory_entry(request, identifiant)
        levels = {"": "Toute la structure"}
        levels.update({s["codeService"]: f"Service {s['codeService']} — {s['libelle']}"
                       for s in entry.get("listeServices") or []})
        return render(request, "rattachement_demande.html", status=status, errors=errors,
                      form=form or {}, title="Demander un rattachement", entry=entry,
                      levels=levels)

    @router.get(PAGE + "/demande/{identifiant}")
    async def ask_form(request: Request, identifiant: str) -> Response:
        return await request_form(request, identifiant)

    @router.post(PAGE + "/demande/{identifiant}")
    async def ask(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        body, errors = forms.rattachement_request(identifiant, form)
        if not errors:
            try:
                await call(request, "identity", "POST", "/v1/rattachements", json=body)
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details,
                                     aliases={"structure": "codeService"},
                                     known={"codeService", "commentaire"})
            else:
                return redirect(PAGE, "rattachement_demande")
        return await request_form(request, identifiant, status=400, errors=errors, form=form)

    # -- me détacher ----------------------------------------------------------------------
    async def mine(request: Request, rattachement_id: str) -> dict | None:
        return next((r for r in await my_rattachements(request)
                     if r.get("id") == rattachement_id and r.get("status") == "VALIDEE"), None)

    @router.get(PAGE + "/{rattachement_id}/detacher")
    async def detach_form(request: Request, rattachement_id: str) -> Response:
        found = await mine(request, rattachement_id)
        if found is None:
            return await list_page(request, status=404, errors=FormErrors(
                top=["Ce rattachement n'existe pas ou n'est plus actif."]))
        return render(request, "rattachement_detacher.html", title="Me détacher",
                      rattachement=found)

    @router.post(PAGE + "/{rattachement_id}/detacher")
    async def detach(request: Request, rattachement_id: str) -> Response:
        await checked_form(request)
        try:
            await call(request, "identity", "POST",
                       f"/v1/rattachements/{quote(rattachement_id, safe='')}/detach")
        except ApiProblem as exc:  # the GP's last rattachement, already detached…
            return await list_page(request, status=409 if exc.status == 409 else 400,
                                   errors=form_errors(exc.code, exc.message, exc.details,
                                                      known=set()))
        forget_management(request)
        return redirect(PAGE, "detache")

    return router
