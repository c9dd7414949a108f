"""« Suivi des flux »: the flows a partner structure deposited, filtered (status, channel,
deposit dates, technical account), and a flow's compte rendu with each error explained in
French. Flows still in progress are followed without reloading: the page's table (or the
CR's status) is a fragment the vendored static/actualisation.js asks for again every few
seconds; without JavaScript, an « Actualiser » link does the same.

Calls the intake (`GET /v1/flows`, `GET /v1/flows/{numero}`) with the person's token; the
intake lists a structure's flows to holders of « Suivi des flux » on it, and every flow to
operators."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.domain import flow_codes
from chorale_portal.domain.form_errors import FormErrors
from chorale_portal.domain.formatting import day_after, day_of, day_start, page_number
from chorale_portal.domain.rights import SUIVI_DES_FLUX, Rights
from chorale_portal.entrypoints.access import rights_of
from chorale_portal.entrypoints.web import access_denied, call, render

PAGE_SIZE = 20
FILTERS = ("structure", "statut", "canal", "depuis", "jusqua", "compte")
NOT_ALLOWED = ("Vous n'avez pas l'habilitation « Suivi des flux » sur cette structure. "
               "Demandez-la à son gestionnaire.")


def flow_filters(params: Any, rights: Rights) -> tuple[dict[str, str], dict[str, Any],
                                                        FormErrors]:
    """The filters typed in the address: what the form shows again, the intake's query, and
    what was dropped as unreadable. The structure defaults to the person's first one."""
    shown = {k: (params.get(k) or "").strip()[:100] for k in FILTERS}
    errors = FormErrors()
    query: dict[str, Any] = {}
    mine = rights.whole_structures(SUIVI_DES_FLUX)
    if not shown["structure"] and not rights.operator and mine:
        shown["structure"] = mine[0].structure
    if shown["structure"]:
        query["structurePartenaire"] = shown["structure"]
    for name, label, allowed in (("statut", "Statut", flow_codes.FLOW_STATUSES),
                                 ("canal", "Canal", flow_codes.CHANNELS)):
        if shown[name] in allowed:
            query[name] = shown[name]
        elif shown[name]:
            errors.add(name, f"{label} : choisissez une valeur de la liste.")
            shown[name] = ""
    for name, bound, key in (("depuis", day_start, "depuis"), ("jusqua", day_after, "jusqua")):
        if shown[name]:
            day = day_of(shown[name])
            if day is None:
                errors.add(name, "Date : indiquez une date au format JJ/MM/AAAA.")
                shown[name] = ""
            else:
                query[key] = bound(day)
    if shown["compte"]:
        query["technicalAccountId"] = shown["compte"]
    return shown, query, errors


def build_router() -> APIRouter:
    router = APIRouter()

    async def flows_page(request: Request, template: str) -> Response:
        rights = await rights_of(request)
        if not rights.flows:
            return access_denied(request, "Vous n'avez pas l'habilitation « Suivi des flux ».")
        shown, query, errors = flow_filters(request.query_params, rights)
        if shown["structure"] and not rights.flows_of(shown["structure"]):
            return access_denied(request, NOT_ALLOWED)
        page = page_number(request.query_params)
        found = await call(request, "invoice-intake", "GET", "/v1/flows",
                           params={**query, "page": page, "taillePage": PAGE_SIZE})
        flows = found.get("flux", [])
        total = int(found.get("total") or 0)
        criteria = {k: v for k, v in shown.items() if v}
        in_progress = sum(1 for f in flows if f.get("statut") in flow_codes.IN_PROGRESS)
        here = urlencode({**criteria, "page": page})
        return render(
            request, template, title="Suivi des flux", flows=flows, total=total, page=page,
            pages=max(1, -(-total // PAGE_SIZE)), criteria=shown, errors=errors,
            structures=rights.whole_structures(SUIVI_DES_FLUX), operator=rights.operator,
            structure_options={g.structure: g.label
                               for g in rights.whole_structures(SUIVI_DES_FLUX)},
            codes=flow_codes, in_progress=in_progress,
            status_options={"": "Tous les statuts", **flow_codes.FLOW_STATUSES},
            channel_options={"": "Tous les canaux", **flow_codes.CHANNELS},
            fragment="/suivi-des-flux/lignes?" + here, reload_link="/suivi-des-flux?" + here,
            page_link=lambda n: "/suivi-des-flux?" + urlencode({**criteria, "page": n}))

    @router.get("/suivi-des-flux")
    async def flows(request: Request) -> Response:
        return await flows_page(request, "flows.html")

    @router.get("/suivi-des-flux/lignes")
    async def flows_fragment(request: Request) -> Response:
        """The table alone, for the page's periodic refresh."""
        return await flows_page(request, "_flows_table.html")

    async def flow_page(request: Request, numero: str, template: str) -> Response:
        rights = await rights_of(request)
        if not rights.flows:
            return access_denied(request, "Vous n'avez pas l'habilitation « Suivi des flux ».")
        cr = await call(request, "invoice-intake", "GET", f"/v1/flows/{quote(numero, safe='')}")
        return render(request, template, title=f"Flux {cr.get('numeroFluxDepot', '')}", cr=cr,
                      codes=flow_codes, errors_cr=flow_codes.explained_cr(cr),
                      in_progress=cr.get("statut") in flow_codes.IN_PROGRESS,
                      fragment=f"/suivi-des-flux/{quote(numero, safe='')}/etat",
                      reload_link=f"/suivi-des-flux/{quote(numero, safe='')}")

    @router.get("/suivi-des-flux/{numero}")
    async def flow(request: Request, numero: str) -> Response:
        return await flow_page(request, numero, "flow.html")

    @router.get("/suivi-des-flux/{numero}/etat")
    async def flow_fragment(request: Request, numero: str) -> Response:
        return await flow_page(request, numero, "_flow_cr.html")

    return router
