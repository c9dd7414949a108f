"""Structures (domaine Organisation): the structures I administer and their search, a
structure's page, its general information and parameters, creating a private structure,
requesting the creation of a public one or a deactivation."""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import form_errors
from chorale_portal.entrypoints.web import attempt, call, checked_form, redirect, render, signed_in

PAGE_SIZE = 20
SEARCH_FIELDS = ("raisonSociale", "identifiant", "ville", "codePostal", "typeStructure", "statut")
# A new private structure's rights reach the structures service through events: the page
# waits this long for them before sending the person to the list instead.
ACCESS_WAIT_ROUNDS, ACCESS_WAIT_SECONDS = 25, 0.2


def api_path(identifiant: str, rest: str = "") -> str:
    return f"/v1/structures/{quote(identifiant, safe='')}{rest}"


def page_path(identifiant: str, rest: str = "") -> str:
    return f"/structures/{quote(identifiant, safe='')}{rest}"


async def load_structure(request: Request, identifiant: str) -> dict:
    return await call(request, "structures", "GET", api_path(identifiant))


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/structures")
    async def structures(request: Request) -> Response:
        await signed_in(request)
        criteria = {k: (request.query_params.get(k) or "").strip()[:200] for k in SEARCH_FIELDS}
        criteria = {k: v for k, v in criteria.items() if v}
        try:
            page = max(1, int(request.query_params.get("page") or 1))
        except ValueError:
            page = 1
        found = await call(request, "structures", "GET", "/v1/structures",
                           params={**criteria, "page": page, "taille": PAGE_SIZE,
                                   "tri": "raisonSociale"})
        paging = found.get("parametresRetour", {})
        return render(request, "structures.html", title="Structures",
                      structures=found.get("listeStructures", []), paging=paging,
                      criteria=criteria, page=page, searched=bool(criteria),
                      page_link=lambda n: "/structures?" + urlencode({**criteria, "page": n}))

    # -- créer une structure privée ---------------------------------------------------------
    @router.get("/structures/nouvelle")
    async def new_form(request: Request) -> Response:
        await signed_in(request)
        return render(request, "structure_new.html", title="Créer une structure privée",
                      form={"typeIdentifiant": "SIRET", "pays": "FR"})

    @router.post("/structures/nouvelle")
    async def create(request: Request) -> Response:
        form = await checked_form(request)
        body, errors = forms.new_structure(form)
        if not errors:
            try:
                created = await call(request, "structures", "POST", "/v1/structures",
                                     json=body)
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details)
            else:
                identifiant = created["identifiant"]
                if await _wait_for_access(request, identifiant):
                    return redirect(page_path(identifiant), "structure_creee")
                return redirect("/structures", "structure_creee")
        return render(request, "structure_new.html", status=400, title="Créer une structure "
                      "privée", errors=errors, form=form)

    # -- demander la création d'une structure publique -------------------------------------
    @router.get("/structures/demande-creation")
    async def request_form(request: Request) -> Response:
        await signed_in(request)
        return render(request, "structure_request.html",
                      title="Demander la création d'une structure publique",
                      form={"typeIdentifiant": "SIRET", "pays": "FR", "presenceMOA": "SANS_MOA"})

    @router.post("/structures/demande-creation")
    async def request_creation(request: Request) -> Response:
        form = await checked_form(request)
        body, errors = forms.public_structure_request(form)
        if await attempt(errors, lambda: call(request, "structures", "POST", "/v1/demandes",
                                              json=body), aliases=_STRUCTURE_ALIASES):
            return redirect("/structures", "demande_creation_envoyee")
        return render(request, "structure_request.html", status=400, errors=errors, form=form,
                      title="Demander la création d'une structure publique")

    # -- une structure ------------------------------------------------------------------------
    @router.get("/structures/{identifiant}")
    async def structure(request: Request, identifiant: str) -> Response:
        found = await load_structure(request, identifiant)
        return render(request, "structure.html", title=found.get("raisonSociale", identifiant),
                      structure=found, tab="informations")

    @router.get("/structures/{identifiant}/modifier")
    async def edit_form(request: Request, identifiant: str) -> Response:
        found = await load_structure(request, identifiant)
        return render(request, "structure_edit.html", title="Modifier la structure",
                      structure=found, form=found, tab="informations")

    @router.post("/structures/{identifiant}/modifier")
    async def edit(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        body, errors = forms.structure_information(form)
        if await attempt(errors, lambda: call(request, "structures", "PATCH",
                                              api_path(identifiant), json=body)):
            return redirect(page_path(identifiant), "structure_modifiee")
        found = await load_structure(request, identifiant)
        return render(request, "structure_edit.html", status=400, title="Modifier la "
                      "structure", structure=found, form=form, errors=errors,
                      tab="informations")

    @router.get("/structures/{identifiant}/parametres")
    async def parameters_form(request: Request, identifiant: str) -> Response:
        found = await load_structure(request, identifiant)
        return render(request, "structure_parameters.html", title="Paramètres",
                      structure=found, values=found.get("parametres") or {}, tab="parametres")

    @router.post("/structures/{identifiant}/parametres")
    async def set_parameters(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        body, errors = forms.parameters(form)
        if await attempt(errors, lambda: call(request, "structures", "PUT",
                                              api_path(identifiant, "/parametres"), json=body)):
            return redirect(page_path(identifiant, "/parametres"), "parametres_modifies")
        found = await load_structure(request, identifiant)
        values = {**(found.get("parametres") or {}), **body}
        return render(request, "structure_parameters.html", status=400, title="Paramètres",
                      structure=found, values=values, errors=errors, tab="parametres")

    @router.get("/structures/{identifiant}/demande-desactivation")
    async def deactivation_form(request: Request, identifiant: str) -> Response:
        found = await load_structure(request, identifiant)
        return render(request, "structure_deactivation.html", title="Demander la "
                      "désactivation", structure=found, tab="informations")

    @router.post("/structures/{identifiant}/demande-desactivation")
    async def request_deactivation(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        body, errors = forms.deactivation_request(identifiant, form)
        if await attempt(errors, lambda: call(request, "structures", "POST", "/v1/demandes",
                                              json=body)):
            return redirect(page_path(identifiant), "demande_desactivation_envoyee")
        found = await load_structure(request, identifiant)
        return render(request, "structure_deactivation.html", status=400, errors=errors,
                      form=form, title="Demander la désactivation", structure=found,
                      tab="informations")

    return router


# A creation request's structure fields come back as structure.<champ>.
_STRUCTURE_ALIASES = {f"structure.{name}": name for name in (
    *forms.STRUCTURE_FIELDS, "identifiant", "typeIdentifiant")}
_STRUCTURE_ALIASES.update({f"structure.parametres.{name}": name for name in (
    *forms.BOOLEAN_PARAMETERS, "presenceMOA")})


async def _wait_for_access(request: Request, identifiant: str) -> bool:
    for _ in range(ACCESS_WAIT_ROUNDS):
        try:
            await load_structure(request, identifiant)
            return True
        except ApiProblem as exc:
            if exc.status != 403:
                return False
        await asyncio.sleep(ACCESS_WAIT_SECONDS)
    return False
