"""Services of a structure: list (active or not, activation dates, EJ flag), create, modify,
activate, deactivate. FACTURES_PUBLIQUES is the platform's and shown as reserved."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import FormErrors
from chorale_portal.entrypoints.pages_structures import api_path, load_structure, page_path
from chorale_portal.entrypoints.web import attempt, call, checked_form, redirect, render


def build_router() -> APIRouter:
    router = APIRouter()

    async def services_of(request: Request, identifiant: str) -> list[dict]:
        found = await call(request, "structures", "GET", api_path(identifiant, "/services"))
        return found.get("listeServices", [])

    async def list_page(request: Request, identifiant: str, *, status: int = 200,
                        errors: FormErrors | None = None) -> Response:
        structure, services = await asyncio.gather(load_structure(request, identifiant),
                                                   services_of(request, identifiant))
        return render(request, "services.html", status=status, errors=errors,
                      title=f"Services — {structure.get('raisonSociale', '')}",
                      structure=structure, services=services, tab="services")

    @router.get("/structures/{identifiant}/services")
    async def services(request: Request, identifiant: str) -> Response:
        return await list_page(request, identifiant)

    @router.get("/structures/{identifiant}/services/nouveau")
    async def new_form(request: Request, identifiant: str) -> Response:
        structure = await load_structure(request, identifiant)
        return render(request, "service_form.html", title="Nouveau service",
                      structure=structure, tab="services", new=True)

    @router.post("/structures/{identifiant}/services/nouveau")
    async def create(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        body, errors = forms.service(form, new=True)
        if await attempt(errors, lambda: call(request, "structures", "POST",
                                              api_path(identifiant, "/services"), json=body)):
            return redirect(page_path(identifiant, "/services"), "service_cree")
        structure = await load_structure(request, identifiant)
        return render(request, "service_form.html", status=400, title="Nouveau service",
                      structure=structure, tab="services", new=True, form=form, errors=errors)

    @router.get("/structures/{identifiant}/services/{code}/modifier")
    async def edit_form(request: Request, identifiant: str, code: str) -> Response:
        structure = await load_structure(request, identifiant)
        service = next((s for s in await services_of(request, identifiant)
                        if s.get("codeService") == code), None)
        if service is None:
            raise ApiProblem(404, "SERVICE_NOT_FOUND", "Ce service n'existe pas.")
        return render(request, "service_form.html", title=f"Modifier le service {code}",
                      structure=structure, tab="services", new=False, form=service, code=code)

    @router.post("/structures/{identifiant}/services/{code}/modifier")
    async def edit(request: Request, identifiant: str, code: str) -> Response:
        form = await checked_form(request)
        body, errors = forms.service(form, new=False)
        path = api_path(identifiant, f"/services/{quote(code, safe='')}")
        if await attempt(errors, lambda: call(request, "structures", "PATCH", path, json=body)):
            return redirect(page_path(identifiant, "/services"), "service_modifie")
        structure = await load_structure(request, identifiant)
        return render(request, "service_form.html", status=400,
                      title=f"Modifier le service {code}", structure=structure, tab="services",
                      new=False, form=form, code=code, errors=errors)

    async def set_active(request: Request, identifiant: str, code: str, active: bool) -> Response:
        await checked_form(request)
        action = "activation" if active else "desactivation"
        try:
            await call(request, "structures", "POST",
                       api_path(identifiant, f"/services/{quote(code, safe='')}/{action}"))
        except ApiProblem as exc:
            return await list_page(request, identifiant, status=400,
                                   errors=FormErrors(top=[exc.message]))
        return redirect(page_path(identifiant, "/services"),
                        "service_active" if active else "service_desactive")

    @router.post("/structures/{identifiant}/services/{code}/activer")
    async def activate(request: Request, identifiant: str, code: str) -> Response:
        return await set_active(request, identifiant, code, True)

    @router.post("/structures/{identifiant}/services/{code}/desactiver")
    async def deactivate(request: Request, identifiant: str, code: str) -> Response:
        return await set_active(request, identifiant, code, False)

    return router
