"""Mes habilitations: my profiles per structure and service (« Factures reçues consultation »…),
a search over them and their CSV export (what the search shows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.domain.people import matching_rows
from chorale_portal.entrypoints.web import call, render
from chorale_runtime.csv_safe import csv_document

PAGE = "/mon-compte/habilitations"
COLUMNS = (("structure", "Structure"), ("raisonSociale", "Raison sociale"),
           ("codeService", "Code service"), ("libelleService", "Libellé service"),
           ("profil", "Profil"))


async def my_habilitations(request: Request) -> tuple[str, list[Mapping[str, Any]]]:
    text = (request.query_params.get("recherche") or "").strip()[:200]
    answer = await call(request, "habilitations", "GET", "/v1/me/habilitations") or {}
    rows = sorted(answer.get("habilitations") or [], key=lambda r: (
        r.get("raisonSociale") or r.get("structure") or "", r.get("codeService") or "",
        r.get("profil") or ""))
    return text, matching_rows(rows, text, [name for name, _ in COLUMNS])


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get(PAGE)
    async def habilitations(request: Request) -> Response:
        text, rows = await my_habilitations(request)
        return render(request, "habilitations.html", title="Mes habilitations", rows=rows,
                      recherche=text, columns=COLUMNS)

    @router.get(PAGE + "/export")
    async def export(request: Request) -> Response:
        _, rows = await my_habilitations(request)
        table = [[label for _, label in COLUMNS],
                 *([row.get(name) or "" for name, _ in COLUMNS] for row in rows)]
        return Response(csv_document(table), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="mes-habilitations.csv"'})

    return router
