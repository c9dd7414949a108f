"""« Factures reçues » (the recipient's agents) and « Factures émises » (the supplier): lists
with filters and paging, an invoice's readable view (parties, lines, VAT breakdown, totals),
its status history, the original file and the attachments (streamed through the portal with
the person's token, under a name the portal makes), and the actions the person may take now:
the recipient's (prise en charge, service fait, mandatée, suspendre, à recycler, rejeter, mise
en paiement: each with the version the person saw, `If-Match`), the supplier's (complete a
suspended invoice with attachments, re-address one « à recycler »).

Calls the invoices service (`/v1/factures-recues`, `/v1/factures-emises`, `/v1/factures/…`)
and, for the original, the intake (`/v1/invoices/{id}/original`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import invoices as texts
from chorale_portal.domain.form_errors import FormErrors
from chorale_portal.domain.rights import FACTURES_EMISES, FACTURES_RECUES, Grants, Rights
from chorale_portal.entrypoints.access import rights_of
from chorale_portal.entrypoints.web import (
    access_denied,
    call,
    checked_form,
    portal_of,
    redirect,
    render,
    token_of,
)

PAGE_SIZE = 20
MAX_PIECE_BYTES = 4 * 1024 * 1024
MAX_PIECES = 10
FORM_OVERHEAD_BYTES = 64 * 1024


class Side:
    """What differs between the two lists: the application, the service's routes, the
    portal's addresses and their wording."""

    def __init__(self, application: str, api: str, page: str, title: str, filters: tuple,
                 denied: str):
        self.application, self.api, self.page, self.title = application, api, page, title
        self.filters, self.denied = filters, denied

    @property
    def received(self) -> bool:
        return self.application == FACTURES_RECUES

    def structures(self, rights: Rights) -> list[Grants]:
        """Where the list opens: « Factures reçues » on a structure or one of its services,
        « Factures émises » on a structure (the supplier's)."""
        if self.received:
            return rights.structures(self.application)
        return rights.whole_structures(self.application)


RECEIVED = Side(FACTURES_RECUES, "/v1/factures-recues", "/factures-recues", "Factures reçues",
                texts.RECEIVED_FILTERS, "Vous n'avez pas l'habilitation « Factures reçues »"
                " sur cette structure.")
ISSUED = Side(FACTURES_EMISES, "/v1/factures-emises", "/factures-emises", "Factures émises",
              texts.ISSUED_FILTERS, "Vous n'avez pas l'habilitation « Factures émises »"
              " sur cette structure.")


def _id(value: str) -> str:
    return quote(value, safe="")


async def _reference(request: Request) -> dict[str, Any]:
    """The statuses and motif lists (static: asked once per process)."""
    state = request.app.state
    if getattr(state, "invoice_reference", None) is None:
        state.invoice_reference = await call(request, "invoices", "GET", "/v1/factures/statuts")
    return state.invoice_reference


def _grants(rights: Rights, side: Side, structure: str) -> Grants | None:
    return rights.on(side.application, structure)


def build_router() -> APIRouter:
    router = APIRouter()

    # -- lists ----------------------------------------------------------------------------
    async def invoice_list(request: Request, side: Side) -> Response:
        rights = await rights_of(request)
        mine = side.structures(rights)
        if not mine:
            return access_denied(request, side.denied)
        shown, query, errors = texts.list_filters(request.query_params, side.filters,
                                                  mine[0].structure)
        grants = _grants(rights, side, shown["structure"])
        if grants is None or grants not in mine:
            return access_denied(request, side.denied)
        found = await call(request, "invoices", "GET", side.api,
                           params={**query, "taillePage": PAGE_SIZE})
        total = int(found.get("total") or 0)
        criteria = {k: v for k, v in shown.items() if v}
        return render(
            request, "invoices.html", title=side.title, side=side, rights_here=grants,
            invoices=found.get("factures", []), total=total, page=query["page"],
            pages=max(1, -(-total // PAGE_SIZE)), criteria=shown, errors=errors,
            structure_options={g.structure: g.label for g in mine},
            service_options={"": "Tous mes services", **{s: s for s in sorted(grants.services)}}
            if grants.whole is None else None,
            status_options={"": "Tous les statuts", **texts.STATUSES},
            page_link=lambda n: side.page + "?" + urlencode({**criteria, "page": n}))


    # -- one invoice ----------------------------------------------------------------------
    async def load(request: Request, side: Side, invoice_id: str) -> dict[str, Any]:
        return await call(request, "invoices", "GET", f"{side.api}/{_id(invoice_id)}")

    async def content_of(request: Request, invoice_id: str) -> tuple[dict | None, str | None]:
        """The readable rendering, or why there is none (a Factur-X PDF: download it)."""
        try:
            return await call(request, "invoices", "GET",
                              f"/v1/factures/{_id(invoice_id)}/contenu"), None
        except ApiProblem as exc:
            return None, exc.message

    async def invoice_page(request: Request, side: Side, invoice_id: str, *,
                           status: int = 200, errors: FormErrors | None = None,
                           form: dict | None = None, open_action: str | None = None
                           ) -> Response:
        rights = await rights_of(request)
        if not side.structures(rights):
            return access_denied(request, side.denied)
        invoice, (content, no_content), reference = await asyncio.gather(
            load(request, side, invoice_id), content_of(request, invoice_id),
            _reference(request))
        if side.received:
            grants = _grants(rights, side, invoice.get("destinataire", ""))
            may_act = grants is not None and grants.modifies(invoice.get("codeService"))
            actions = [a for a in invoice.get("actionsPossibles", [])
                       if a in texts.RECIPIENT_ACTIONS] if may_act else []
        else:
            grants = _grants(rights, side, invoice.get("fournisseur", ""))
            may_act = grants is not None and grants.modifies()
            actions = [a for a in invoice.get("actionsPossibles", [])
                       if a in texts.SUPPLIER_ACTIONS] if may_act else []
        motifs = {action: {m["code"]: m["libelle"] for m in motifs}
                  for action, motifs in (reference.get("motifs") or {}).items()}
        return render(
            request, "invoice.html", status=status, errors=errors, form=form,
            title=f"Facture {invoice.get('numeroFacture', '')}", side=side, invoice=invoice,
            content=content, no_content=no_content, actions=actions, motifs=motifs,
            action_texts=texts.RECIPIENT_ACTIONS, authors=texts.AUTHORS,
            open_action=open_action, max_pieces=MAX_PIECES,
            flow_link=rights.flows_of(invoice.get("fournisseur", "")))


    # -- the recipient's actions ----------------------------------------------------------
    @router.post("/factures-recues/{invoice_id}/{action}")
    async def act(request: Request, invoice_id: str, action: str) -> Response:
        form = await checked_form(request)
        if action not in texts.RECIPIENT_ACTIONS:
            return access_denied(request, "Cette action n'existe pas.")
        rights = await rights_of(request)
        invoice = await load(request, RECEIVED, invoice_id)
        grants = _grants(rights, RECEIVED, invoice.get("destinataire", ""))
        if grants is None or not grants.modifies(invoice.get("codeService")):
            return access_denied(request, "Vous pouvez consulter cette facture mais pas la "
                                 "traiter : il faut l'habilitation « Factures reçues » en "
                                 "modification.")
        version = str(form.get("version") or "")
        motif = str(form.get("motif") or "").strip()
        comment = str(form.get("commentaire") or "").strip()[:1000]
        errors, status = FormErrors(), 400
        if texts.RECIPIENT_ACTIONS[action].motif and not motif:
            errors.add(f"motif-{action}", "Motif : choisissez un motif dans la liste.")
        if not version.isdigit():
            errors.add(None, "La page était incomplète : rechargez-la et recommencez.")
        if not errors:
            body = {k: v for k, v in (("motif", motif), ("commentaire", comment)) if v}
            try:
                await call(request, "invoices", "POST",
                           f"{RECEIVED.api}/{_id(invoice_id)}/{action}",
                           json=body, headers={"If-Match": f'"{version}"'})
                return redirect(f"{RECEIVED.page}/{_id(invoice_id)}", "facture_" +
                                action.replace("-", "_"))
            except ApiProblem as exc:
                errors.add(f"motif-{action}" if exc.code.startswith("MOTIF_") else None,
                           _conflict_text(exc))
                status = exc.status
        return await invoice_page(request, RECEIVED, invoice_id, status=status,
                                  errors=errors, form={"motif": motif, "commentaire": comment},
                                  open_action=action)

    # -- the supplier's actions -----------------------------------------------------------
    async def supplier_check(request: Request, invoice_id: str) -> dict[str, Any] | Response:
        rights = await rights_of(request)
        invoice = await load(request, ISSUED, invoice_id)
        grants = _grants(rights, ISSUED, invoice.get("fournisseur", ""))
        if grants is None or not grants.modifies():
            return access_denied(request, "Vous pouvez consulter cette facture mais pas la "
                                 "compléter : il faut l'habilitation « Factures émises » en "
                                 "modification.")
        return invoice

    @router.post("/factures-emises/{invoice_id}/completer")
    async def complete(request: Request, invoice_id: str) -> Response:
        declared = request.headers.get("content-length") or ""
        if declared.isdigit() and int(declared) > MAX_PIECES * MAX_PIECE_BYTES + \
                FORM_OVERHEAD_BYTES:
            return await invoice_page(request, ISSUED, invoice_id, status=413, errors=FormErrors(
                fields={"pieces": _too_large()}), open_action="completer")
        form = await checked_form(request)
        checked = await supplier_check(request, invoice_id)
        if isinstance(checked, Response):
            return checked
        comment = str(form.get("commentaire") or "").strip()[:1000]
        version = str(form.get("version") or "")
        errors, status = FormErrors(), 400
        files = []
        for item in form.getlist("pieces"):
            if not isinstance(item, UploadFile) or not item.filename:
                continue
            if item.size is not None and item.size > MAX_PIECE_BYTES:
                errors.add("pieces", _too_large())
            elif item.size == 0:
                errors.add("pieces", f"Le fichier « {item.filename} » est vide.")
            files.append(item)
        if len(files) > MAX_PIECES:
            errors.add("pieces", f"Joignez au plus {MAX_PIECES} fichiers.")
        if not comment and not files:
            errors.add("commentaire", "Commentaire : expliquez ce que vous apportez, ou "
                       "joignez un document.")
        if not errors:
            try:
                await call(
                    request, "invoices", "POST", f"{ISSUED.api}/{_id(invoice_id)}/completer",
                    data={"commentaire": comment, "version": version},
                    files=[("pieces", (f.filename or "piece", f.file,
                                       f.content_type or "application/octet-stream"))
                           for f in files])
                return redirect(f"{ISSUED.page}/{_id(invoice_id)}", "facture_completee")
            except ApiProblem as exc:
                errors.add("pieces" if exc.code.startswith("ATTACHMENT") else None,
                           _conflict_text(exc))
                status = exc.status
        return await invoice_page(request, ISSUED, invoice_id, status=status,
                                  errors=errors, form={"commentaire": comment},
                                  open_action="completer")

    @router.post("/factures-emises/{invoice_id}/readresser")
    async def readdress(request: Request, invoice_id: str) -> Response:
        form = await checked_form(request)
        checked = await supplier_check(request, invoice_id)
        if isinstance(checked, Response):
            return checked
        values = {k: str(form.get(k) or "").strip()[:100]
                  for k in ("codeService", "numeroEngagement", "commentaire")}
        errors, status = FormErrors(), 400
        try:
            await call(request, "invoices", "POST", f"{ISSUED.api}/{_id(invoice_id)}/readresser",
                       json={**{k: v for k, v in values.items() if v},
                             "version": str(form.get("version") or "")})
            return redirect(f"{ISSUED.page}/{_id(invoice_id)}", "facture_readressee")
        except ApiProblem as exc:
            field = {"SERVICE_UNKNOWN": "codeService", "SERVICE_INACTIVE": "codeService",
                     "SERVICE_RESERVED": "codeService", "SERVICE_CODE_REQUIRED": "codeService",
                     "ENGAGEMENT_REQUIRED": "numeroEngagement",
                     "ENGAGEMENT_TOO_LONG": "numeroEngagement"}.get(exc.code)
            errors.add(field, _conflict_text(exc))
            status = exc.status
        return await invoice_page(request, ISSUED, invoice_id, status=status,
                                  errors=errors, form=values, open_action="readresser")

    # -- downloads ------------------------------------------------------------------------
    async def relay(request: Request, service: str, path: str,
                    describe: Callable[[str | None], tuple[str, str]]) -> Response:
        """The upstream body streamed as it arrives, as the media type and under the name
        `describe` makes of the upstream's content type."""
        token = await token_of(request)
        stack = contextlib.AsyncExitStack()
        upstream = await stack.enter_async_context(
            portal_of(request).api.stream(service, path, token=token))
        media, name = describe(upstream.headers.get("content-type"))
        return StreamingResponse(upstream.aiter_bytes(), media_type=media, headers={
            "Content-Disposition": texts.content_disposition(name),
            # Shown by the browser only as a download, never as a page of this site.
            "Content-Security-Policy": "sandbox; default-src 'none'"},
            background=BackgroundTask(stack.aclose))

    async def original(request: Request, side: Side, invoice_id: str) -> Response:
        await rights_of(request)
        invoice = await load(request, side, invoice_id)  # the invoices service decides first
        stem = f"facture-{invoice.get('numeroFacture') or invoice_id}"

        def describe(content_type: str | None) -> tuple[str, str]:
            media, extension = texts.original_type(content_type)
            return media, texts.safe_file_name(stem, extension)

        return await relay(request, "invoice-intake",
                           f"/v1/invoices/{_id(invoice['invoiceId'])}/original", describe)

    async def attachment(request: Request, side: Side, invoice_id: str, piece: str
                         ) -> Response:
        await rights_of(request)
        invoice = await load(request, side, invoice_id)
        known = texts.attachments_of(invoice).get(piece)
        if known is None:
            raise ApiProblem(404, "ATTACHMENT_NOT_FOUND", "Pièce jointe introuvable.")
        stem, _, extension = str(known.get("nom") or "piece").rpartition(".")
        extension = "".join(c for c in extension if c.isalnum())[:8] or "bin"
        name = texts.safe_file_name(stem or "piece", extension)
        return await relay(
            request, "invoices", f"/v1/factures/{_id(invoice_id)}/pieces-jointes/{_id(piece)}",
            lambda _upstream_type: ("application/octet-stream", name))

    # -- the pages of both sides ------------------------------------------------------------
    def pages_of(side: Side) -> None:
        @router.get(side.page, name=f"{side.page}-liste")
        async def listed(request: Request) -> Response:
            return await invoice_list(request, side)

        @router.get(side.page + "/{invoice_id}", name=f"{side.page}-facture")
        async def one(request: Request, invoice_id: str) -> Response:
            return await invoice_page(request, side, invoice_id)

        @router.get(side.page + "/{invoice_id}/original", name=f"{side.page}-original")
        async def original_file(request: Request, invoice_id: str) -> Response:
            return await original(request, side, invoice_id)

        @router.get(side.page + "/{invoice_id}/pieces-jointes/{piece}",
                    name=f"{side.page}-piece")
        async def piece_file(request: Request, invoice_id: str, piece: str) -> Response:
            return await attachment(request, side, invoice_id, piece)

    for side in (RECEIVED, ISSUED):
        pages_of(side)

    return router


def _too_large() -> str:
    return (f"Chaque fichier doit peser au plus 4 Mo, et {MAX_PIECES} fichiers au plus : "
            "réduisez-les et recommencez.")


def _conflict_text(exc: ApiProblem) -> str:
    if exc.code == "INVOICE_VERSION_CONFLICT":
        return ("La facture a changé depuis que vous l'avez ouverte (une autre personne l'a "
                "traitée). Voici son état actuel : vérifiez-le avant d'agir de nouveau.")
    return exc.message

