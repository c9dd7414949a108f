"""Bank details (add with the RIB document in the same form, modify, deactivate) and
attachments (upload up to 4 MB, list, download streamed through the portal, delete)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.entrypoints.pages_structures import api_path, load_structure, page_path
from chorale_portal.entrypoints.uploads import declared_too_large, uploaded_file
from chorale_portal.entrypoints.web import (
    call,
    checked_form,
    portal_of,
    redirect,
    render,
    token_of,
)

MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024
TOO_LARGE = "Le fichier dépasse la taille maximale de 4 Mo : réduisez-le (par exemple en le " \
            "numérisant en noir et blanc) et recommencez."
DOWNLOAD_HEADERS = ("content-disposition", "x-checksum-sha256")


def build_router() -> APIRouter:
    router = APIRouter()

    async def bank_list(request: Request, identifiant: str) -> list[dict]:
        found = await call(request, "structures", "GET",
                           api_path(identifiant, "/coordonnees-bancaires"))
        return found.get("listeCoordonneesBancaires", [])

    async def attachments_of(request: Request, identifiant: str) -> list[dict]:
        found = await call(request, "structures", "GET", api_path(identifiant, "/pieces-jointes"))
        return found.get("listePiecesJointes", [])

    async def upload(request: Request, identifiant: str, file: UploadFile) -> dict:
        await file.seek(0)
        return await call(
            request, "structures", "POST", api_path(identifiant, "/pieces-jointes"),
            files={"fichier": (file.filename or "document",
                               file.file, file.content_type or "application/octet-stream")})

    async def bank_form_page(request: Request, identifiant: str, *, status: int = 200,
                             form: object = None, errors: FormErrors | None = None,
                             bank_id: str | None = None) -> Response:
        structure = await load_structure(request, identifiant)
        return render(request, "bank_form.html", status=status, structure=structure,
                      tab="banque", form=form or {"type": "IBAN"}, errors=errors,
                      bank_id=bank_id, max_mb=4,
                      title="Modifier des coordonnées bancaires" if bank_id
                      else "Ajouter des coordonnées bancaires")

    # -- coordonnées bancaires ------------------------------------------------------------
    @router.get("/structures/{identifiant}/coordonnees-bancaires")
    async def bank_details(request: Request, identifiant: str) -> Response:
        structure, details, documents = await asyncio.gather(
            load_structure(request, identifiant), bank_list(request, identifiant),
            attachments_of(request, identifiant))
        names = {a["idPieceJointe"]: a["nom"] for a in documents}
        return render(request, "bank.html", structure=structure, tab="banque", details=details,
                      attachment_names=names, title="Coordonnées bancaires")

    @router.get("/structures/{identifiant}/coordonnees-bancaires/nouvelles")
    async def new_bank_form(request: Request, identifiant: str) -> Response:
        return await bank_form_page(request, identifiant)

    @router.post("/structures/{identifiant}/coordonnees-bancaires/nouvelles")
    async def add_bank_details(request: Request, identifiant: str) -> Response:
        if _too_large(request):
            return await bank_form_page(request, identifiant, status=413,
                                        errors=FormErrors(fields={"fichier": TOO_LARGE}))
        form = await checked_form(request)
        body, errors = forms.bank_details(form, new=True)
        file = _file_of(form, errors, required=True)
        if errors or file is None:
            return await bank_form_page(request, identifiant, status=400, form=form,
                                        errors=errors)
        try:
            document = await upload(request, identifiant, file)
        except ApiProblem as exc:
            return await bank_form_page(request, identifiant, status=400, form=form,
                                        errors=form_errors(exc.code, exc.message, exc.details))
        try:
            await call(request, "structures", "POST",
                       api_path(identifiant, "/coordonnees-bancaires"),
                       json={**body, "idPieceJointe": document["idPieceJointe"]})
        except ApiProblem as exc:
            # The document was only for these details: do not leave it behind.
            with contextlib.suppress(ApiProblem):
                await call(request, "structures", "DELETE", api_path(
                    identifiant, f"/pieces-jointes/{quote(document['idPieceJointe'], safe='')}"))
            return await bank_form_page(request, identifiant, status=400, form=form,
                                        errors=form_errors(exc.code, exc.message, exc.details,
                                                           aliases=_FACTOR_ALIASES))
        return redirect(page_path(identifiant, "/coordonnees-bancaires"), "coordonnees_ajoutees")

    @router.get("/structures/{identifiant}/coordonnees-bancaires/{bank_id}/modifier")
    async def edit_bank_form(request: Request, identifiant: str, bank_id: str) -> Response:
        found = await call(request, "structures", "GET", api_path(
            identifiant, f"/coordonnees-bancaires/{quote(bank_id, safe='')}"))
        factor = found.get("affactureur") or {}
        form = {**found, **{f"affactureur_{k}": v for k, v in factor.items()}}
        return await bank_form_page(request, identifiant, form=form, bank_id=bank_id)

    @router.post("/structures/{identifiant}/coordonnees-bancaires/{bank_id}/modifier")
    async def edit_bank(request: Request, identifiant: str, bank_id: str) -> Response:
        if _too_large(request):
            return await bank_form_page(request, identifiant, status=413, bank_id=bank_id,
                                        errors=FormErrors(fields={"fichier": TOO_LARGE}))
        form = await checked_form(request)
        body, errors = forms.bank_details(form, new=False)
        file = _file_of(form, errors, required=False)
        if not errors:
            try:
                if file is not None:
                    body["idPieceJointe"] = (await upload(request, identifiant, file))[
                        "idPieceJointe"]
                await call(request, "structures", "PATCH", api_path(
                    identifiant, f"/coordonnees-bancaires/{quote(bank_id, safe='')}"), json=body)
                return redirect(page_path(identifiant, "/coordonnees-bancaires"),
                                "coordonnees_modifiees")
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details, aliases=_FACTOR_ALIASES)
        return await bank_form_page(request, identifiant, status=400, form=form, errors=errors,
                                    bank_id=bank_id)

    @router.post("/structures/{identifiant}/coordonnees-bancaires/{bank_id}/desactiver")
    async def deactivate_bank(request: Request, identifiant: str, bank_id: str) -> Response:
        await checked_form(request)
        await call(request, "structures", "POST", api_path(
            identifiant, f"/coordonnees-bancaires/{quote(bank_id, safe='')}/desactivation"))
        return redirect(page_path(identifiant, "/coordonnees-bancaires"),
                        "coordonnees_desactivees")

    # -- pièces jointes -------------------------------------------------------------------
    async def attachments_page(request: Request, identifiant: str, *, status: int = 200,
                               errors: FormErrors | None = None) -> Response:
        structure, documents = await asyncio.gather(load_structure(request, identifiant),
                                                    attachments_of(request, identifiant))
        return render(request, "attachments.html", status=status, errors=errors,
                      structure=structure, tab="pieces", attachments=documents,
                      title="Pièces jointes")

    @router.get("/structures/{identifiant}/pieces-jointes")
    async def attachments(request: Request, identifiant: str) -> Response:
        return await attachments_page(request, identifiant)

    @router.post("/structures/{identifiant}/pieces-jointes")
    async def add_attachment(request: Request, identifiant: str) -> Response:
        if _too_large(request):
            return await attachments_page(request, identifiant, status=413,
                                          errors=FormErrors(fields={"fichier": TOO_LARGE}))
        form = await checked_form(request)
        errors = FormErrors()
        file = _file_of(form, errors, required=True)
        if file is not None and not errors:
            try:
                await upload(request, identifiant, file)
                return redirect(page_path(identifiant, "/pieces-jointes"), "piece_ajoutee")
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details)
        return await attachments_page(request, identifiant, status=400, errors=errors)

    @router.get("/structures/{identifiant}/pieces-jointes/{piece}")
    async def download(request: Request, identifiant: str, piece: str) -> Response:
        token = await token_of(request)
        stack = contextlib.AsyncExitStack()
        upstream = await stack.enter_async_context(portal_of(request).api.stream(
            "structures", api_path(identifiant, f"/pieces-jointes/{quote(piece, safe='')}"),
            token=token))
        headers = {k: upstream.headers[k] for k in DOWNLOAD_HEADERS if k in upstream.headers}
        headers.setdefault("content-disposition", "attachment")
        # Shown by the browser only as a download, never as a page of this site.
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return StreamingResponse(
            upstream.aiter_bytes(), media_type=upstream.headers.get("content-type",
                                                                  "application/octet-stream"),
            headers=headers, background=BackgroundTask(stack.aclose))

    @router.post("/structures/{identifiant}/pieces-jointes/{piece}/supprimer")
    async def delete_attachment(request: Request, identifiant: str, piece: str) -> Response:
        await checked_form(request)
        try:
            await call(request, "structures", "DELETE",
                       api_path(identifiant, f"/pieces-jointes/{quote(piece, safe='')}"))
        except ApiProblem as exc:
            return await attachments_page(request, identifiant, status=400,
                                          errors=FormErrors(top=[exc.message]))
        return redirect(page_path(identifiant, "/pieces-jointes"), "piece_supprimee")

    return router


_FACTOR_ALIASES = {f"affactureur.{name}": f"affactureur_{name}"
                   for name in ("raisonSociale", "pays", "identifiant", "typeIdentifiant")}


def _too_large(request: Request) -> bool:
    return declared_too_large(request, MAX_ATTACHMENT_BYTES)


def _file_of(form: FormData, errors: FormErrors, *, required: bool) -> UploadFile | None:
    return uploaded_file(form, errors, limit=MAX_ATTACHMENT_BYTES, too_large=TOO_LARGE,
                         missing="Document : choisissez un fichier." if required else None)
