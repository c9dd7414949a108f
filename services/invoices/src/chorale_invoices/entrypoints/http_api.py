"""HTTP API (docs/api.md): « Factures reçues » (recipient), « Factures émises » (supplier),
attachments, and the CDAR messages for the suppliers' technical accounts."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from starlette.datastructures import UploadFile

from chorale_contracts.events.common import Mode
from chorale_invoices.adapters.cdar_store import CdarStore, cdar_id
from chorale_invoices.adapters.directory_store import DirectoryStore
from chorale_invoices.adapters.intake_client import IntakeClient
from chorale_invoices.adapters.invoice_store import AttachmentStore
from chorale_invoices.adapters.list_index import ListIndex
from chorale_invoices.domain.errors import InvoiceError, invoice_not_found
from chorale_invoices.domain.invoice import Invoice, PieceJointe
from chorale_invoices.domain.listing import MAX_PAGE_SIZE, Filters, csv_rows, select
from chorale_invoices.domain.rendering import render
from chorale_invoices.domain.statuses import (
    CDAR_CODES,
    MOTIF_LABELS,
    MOTIFS,
    STATUS_LABELS,
    Action,
    Actor,
    Status,
    visible_to_supplier,
)
from chorale_invoices.entrypoints.access import Access
from chorale_invoices.service_layer.lifecycle import Lifecycle
from chorale_invoices.service_layer.lifecycle import Request as ActionRequest
from chorale_invoices.settings import InvoicesSettings
from chorale_runtime.auth import Principal
from chorale_runtime.csv_safe import csv_document
from chorale_runtime.errors import forbidden
from chorale_runtime.http import correlation_id_of

RECIPIENT_ACTIONS = (Action.PRENDRE_EN_CHARGE, Action.SERVICE_FAIT, Action.MANDATER,
                     Action.SUSPENDRE, Action.A_RECYCLER, Action.REJETER,
                     Action.METTRE_EN_PAIEMENT)


@dataclass
class Context:
    settings: InvoicesSettings
    lifecycle: Lifecycle
    index: ListIndex
    directory: DirectoryStore
    attachments: AttachmentStore
    cdar: CdarStore
    access: Access
    intake: IntakeClient


def _links(ctx: Context, invoice: Invoice) -> dict[str, str]:
    base = (ctx.settings.intake_public_url or ctx.settings.intake_url).rstrip("/")
    return {"original": f"{base}/v1/invoices/{invoice.invoiceId}/original",
            "compteRendu": f"{base}/v1/flows/{invoice.numeroFluxDepot}"}


def _version_of(if_match: str | None, body_version: int | None) -> int | None:
    if body_version is not None:
        return body_version
    if not if_match:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvoiceError("IF_MATCH_INVALID", "En-tête If-Match invalide : la version de la "
                           "facture est attendue (nombre entier).")
    return int(text)


def _filters(**values: Any) -> Filters:
    return Filters(**{k: v for k, v in values.items() if v is not None})


def build_router(ctx: Context, current: Callable[..., Awaitable[Principal]]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["factures"])
    who = Depends(current)

    async def load(invoice_id: str) -> Invoice:
        if len(invoice_id) > 64:
            raise invoice_not_found(invoice_id[:64])
        return await ctx.lifecycle.get(invoice_id)

    def with_etag(response: Response, invoice: Invoice) -> None:
        response.headers["ETag"] = f'"{invoice.version}"'

    async def as_supplier_sees(response: Response, invoice: Invoice) -> dict[str, Any]:
        with_etag(response, invoice)
        hide = await ctx.directory.hides_payment(invoice.destinataire)
        return {**invoice.for_supplier(hide), "liens": _links(ctx, invoice)}

    # -- reference lists --------------------------------------------------------------------
    @router.get("/factures/statuts", summary="Statuts, codes CDAR et motifs (listes)")
    async def reference() -> dict[str, Any]:
        return {
            "statuts": [{"statut": s.value, "libelle": STATUS_LABELS[s],
                         "codeCdar": CDAR_CODES[s]} for s in Status],
            "motifs": {a.value: [{"code": m, "libelle": MOTIF_LABELS[m]} for m in motifs]
                       for a, motifs in MOTIFS.items()},
        }

    # -- « Factures reçues » ------------------------------------------------------------------
    @router.get("/factures-recues", summary="Factures reçues : liste filtrée, triée, paginée")
    async def received(
        structure: Annotated[str, Query(min_length=1, max_length=32)],
        principal: Principal = who,
        codeService: Annotated[list[str] | None, Query()] = None,
        statut: Annotated[list[Status] | None, Query()] = None,
        fournisseur: Annotated[str | None, Query(max_length=32)] = None,
        numeroFacture: Annotated[str | None, Query(max_length=100)] = None,
        dateDepotDebut: date | None = None, dateDepotFin: date | None = None,
        dateFactureDebut: date | None = None, dateFactureFin: date | None = None,
        montantMin: float | None = None, montantMax: float | None = None,
        tri: Annotated[str, Query(max_length=32)] = "-dateDepot",
        page: Annotated[int, Query(ge=1)] = 1,
        taillePage: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    ) -> Any:
        scope = await ctx.access.received_scope(principal, structure)
        services: frozenset[str | None] | None = scope
        if codeService:
            wanted = frozenset(codeService)
            services = wanted if scope is None else wanted & scope
        filters = _filters(
            services=services, statuts=frozenset(statut) if statut else None,
            fournisseur=fournisseur, numeroFacture=numeroFacture,
            dateDepotDebut=dateDepotDebut and dateDepotDebut.isoformat(),
            dateDepotFin=dateDepotFin and dateDepotFin.isoformat(),
            dateFactureDebut=dateFactureDebut and dateFactureDebut.isoformat(),
            dateFactureFin=dateFactureFin and dateFactureFin.isoformat(),
            montantMin=montantMin, montantMax=montantMax)
        rows = ctx.index.received(structure, filters.services, filters.statuts)
        if format == "csv":
            _, every = select(rows, filters, sort=tri, page=1, size=10**9)
            return Response(csv_document(csv_rows(r.public() for r in every)),
                            media_type="text/csv; charset=utf-8", headers={
                                "Content-Disposition":
                                f'attachment; filename="factures-recues-{structure}.csv"'})
        total, found = select(rows, filters, sort=tri, page=page, size=taillePage)
        return {"page": page, "taillePage": taillePage, "total": total,
                "factures": [r.public() for r in found]}

    @router.get("/factures-recues/{invoiceId}", summary="Une facture reçue")
    async def received_one(invoiceId: str, response: Response,
                           principal: Principal = who) -> dict[str, Any]:
        invoice = await load(invoiceId)
        await ctx.access.recipient(principal, invoice, Mode.CONSULTATION)
        with_etag(response, invoice)
        return {**invoice.for_recipient(), "liens": _links(ctx, invoice)}

    def recipient_action(action: Action) -> None:
        @router.post(f"/factures-recues/{{invoiceId}}/{action.value}",
                     summary=f"Factures reçues : {action.value}", name=f"recue-{action.value}")
        async def act(invoiceId: str, request: Request, response: Response,
                      principal: Principal = who,
                      body: Annotated[dict[str, Any] | None, Body()] = None,
                      if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
            body = body or {}
            invoice = await load(invoiceId)
            await ctx.access.recipient(principal, invoice, Mode.MODIFICATION)
            changed = await ctx.lifecycle.act(invoice, ActionRequest(
                action=action, actor=Actor.RECIPIENT, user_id=principal.subject,
                expected_version=_version_of(if_match, _int(body.get("version"))),
                motif=_text(body.get("motif"), 64), comment=_text(body.get("commentaire"), 2000),
                correlation_id=correlation_id_of(request)))
            with_etag(response, changed)
            return {**changed.for_recipient(), "liens": _links(ctx, changed)}

    for action in RECIPIENT_ACTIONS:
        recipient_action(action)

    # -- « Factures émises » ------------------------------------------------------------------
    @router.get("/factures-emises", summary="Factures émises : liste filtrée, triée, paginée")
    async def issued(
        structure: Annotated[str, Query(min_length=1, max_length=32)],
        principal: Principal = who,
        statut: Annotated[list[Status] | None, Query()] = None,
        destinataire: Annotated[str | None, Query(max_length=32)] = None,
        numeroFacture: Annotated[str | None, Query(max_length=100)] = None,
        dateDepotDebut: date | None = None, dateDepotFin: date | None = None,
        montantMin: float | None = None, montantMax: float | None = None,
        tri: Annotated[str, Query(max_length=32)] = "-dateDepot",
        page: Annotated[int, Query(ge=1)] = 1,
        taillePage: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    ) -> dict[str, Any]:
        await ctx.access.require_issued(principal, structure, Mode.CONSULTATION)
        rows = list(ctx.index.issued(structure))
        hidden = {r.destinataire: await ctx.directory.hides_payment(r.destinataire)
                  for r in rows}
        filters = _filters(
            statuts=frozenset(statut) if statut else None, destinataire=destinataire,
            numeroFacture=numeroFacture,
            dateDepotDebut=dateDepotDebut and dateDepotDebut.isoformat(),
            dateDepotFin=dateDepotFin and dateDepotFin.isoformat(),
            montantMin=montantMin, montantMax=montantMax)
        total, found = select(rows, filters, sort=tri, page=page, size=taillePage,
                              status_of=lambda r: r.supplier_status(hidden[r.destinataire]))
        return {"page": page, "taillePage": taillePage, "total": total, "factures": [
            r.public(r.supplier_status(hidden[r.destinataire])) for r in found]}

    @router.get("/factures-emises/{invoiceId}", summary="Une facture émise")
    async def issued_one(invoiceId: str, response: Response,
                         principal: Principal = who) -> dict[str, Any]:
        invoice = await load(invoiceId)
        await ctx.access.supplier(principal, invoice, Mode.CONSULTATION)
        return await as_supplier_sees(response, invoice)

    @router.post("/factures-emises/{invoiceId}/completer",
                 summary="Compléter une facture suspendue (commentaire, pièces jointes)")
    async def complete(invoiceId: str, request: Request, response: Response,
                       principal: Principal = who,
                       if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        invoice = await load(invoiceId)
        await ctx.access.supplier(principal, invoice, Mode.MODIFICATION)
        comment, version, uploads = await _completion_form(ctx, request)
        pieces = []
        for upload, content in uploads:
            piece = PieceJointe(
                pieceId=uuid.uuid4().hex, nom=(upload.filename or "piece")[:255],
                typeContenu=(upload.content_type or "application/octet-stream")[:100],
                tailleOctets=len(content), empreinteSha256=hashlib.sha256(content).hexdigest())
            pieces.append((piece, content))
        # Bytes first (by id, unreferenced until the status change names them).
        for piece, content in pieces:
            await ctx.attachments.put(piece.pieceId, invoice.invoiceId, content,
                                      piece.model_dump())
        changed = await ctx.lifecycle.act(invoice, ActionRequest(
            action=Action.COMPLETER, actor=Actor.SUPPLIER, user_id=principal.subject,
            expected_version=_version_of(if_match, version), comment=comment,
            pieces=tuple(p for p, _ in pieces), correlation_id=correlation_id_of(request)))
        return await as_supplier_sees(response, changed)

    @router.post("/factures-emises/{invoiceId}/readresser",
                 summary="Réadresser une facture « à recycler » (code service, engagement)")
    async def readdress(invoiceId: str, request: Request, response: Response,
                        principal: Principal = who,
                        body: Annotated[dict[str, Any] | None, Body()] = None,
                        if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        body = body or {}
        invoice = await load(invoiceId)
        await ctx.access.supplier(principal, invoice, Mode.MODIFICATION)
        changed = await ctx.lifecycle.act(invoice, ActionRequest(
            action=Action.READRESSER, actor=Actor.SUPPLIER, user_id=principal.subject,
            expected_version=_version_of(if_match, _int(body.get("version"))),
            code_service=_text(body.get("codeService"), 100),
            engagement=_text(body.get("numeroEngagement"), 100),
            comment=_text(body.get("commentaire"), 2000),
            correlation_id=correlation_id_of(request)))
        return await as_supplier_sees(response, changed)

    @router.get("/factures/{invoiceId}/pieces-jointes/{pieceId}",
                summary="Télécharger une pièce jointe ajoutée à la facture")
    async def attachment(invoiceId: str, pieceId: str, principal: Principal = who) -> Response:
        invoice = await load(invoiceId)
        await ctx.access.either(principal, invoice)
        doc = await ctx.attachments.get(pieceId) if len(pieceId) <= 64 else None
        if doc is None or doc.get("invoiceId") != invoice.invoiceId:
            raise InvoiceError("ATTACHMENT_NOT_FOUND", "Pièce jointe introuvable.", status=404)
        return Response(bytes(doc["contenu"]), media_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{_safe_name(doc["nom"])}"',
            "X-Content-Type-Options": "nosniff"})

    @router.get("/factures/{invoiceId}/contenu",
                summary="Contenu lisible : parties, lignes, ventilation de TVA, totaux")
    async def content(invoiceId: str, request: Request,
                      principal: Principal = who) -> dict[str, Any]:
        invoice = await load(invoiceId)
        await ctx.access.either(principal, invoice)
        original = await ctx.intake.original(invoice.invoiceId,
                                             request.headers["authorization"])
        return {"invoiceId": invoice.invoiceId, **render(original)}

    # -- CDAR for the suppliers' partners -----------------------------------------------------
    @router.get("/cdar", summary="Messages CDAR du partenaire (compte technique)")
    async def cdar_list(
        principal: Principal = who,
        invoiceId: Annotated[str | None, Query(max_length=64)] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        taillePage: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    ) -> dict[str, Any]:
        structure = _partner(principal)
        entries: list[dict[str, Any]] = []
        for row in ctx.index.issued(structure):
            if invoiceId and row.invoiceId != invoiceId:
                continue
            hide = await ctx.directory.hides_payment(row.destinataire)
            for version, status in enumerate(row.statuts, start=1):
                if visible_to_supplier(status, hide):
                    entries.append({
                        "cdarId": cdar_id(row.invoiceId, version), "invoiceId": row.invoiceId,
                        "numeroFacture": row.numeroFacture, "version": version,
                        "statut": status.value, "codeCdar": CDAR_CODES[status]})
        entries.sort(key=lambda e: e["cdarId"])
        start = (page - 1) * taillePage
        return {"page": page, "taillePage": taillePage, "total": len(entries),
                "messages": entries[start:start + taillePage]}

    @router.get("/cdar/{cdarId}", summary="Un message CDAR (XML D22B)")
    async def cdar_one(cdarId: str, principal: Principal = who) -> Response:
        structure = _partner(principal)
        doc = await ctx.cdar.get(cdarId) if len(cdarId) <= 80 else None
        if doc is None or doc["fournisseur"] != structure:
            raise InvoiceError("CDAR_NOT_FOUND", f"Message CDAR {cdarId[:80]} introuvable.",
                               status=404)
        return Response(bytes(doc["xml"]), media_type="application/xml",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{doc["nomFichier"]}"'})

    return router


def _partner(principal: Principal) -> str:
    if not principal.is_technical or not principal.structure:
        raise forbidden("Les messages CDAR se lisent avec le jeton d'un compte technique.")
    return principal.structure


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InvoiceError("VERSION_INVALID", "La version doit être un nombre entier.")
    return int(value)


def _text(value: Any, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvoiceError("FIELD_INVALID", "Un champ texte attendu a reçu une autre valeur.")
    if len(value) > limit:
        raise InvoiceError("FIELD_TOO_LONG", f"Un champ dépasse {limit} caractères.")
    return value.strip() or None


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._- " else "_" for c in name)[:150] or "piece"


async def _completion_form(ctx: Context, request: Request
                           ) -> tuple[str | None, int | None, list[tuple[UploadFile, bytes]]]:
    """The completion: JSON (`commentaire`, `version`) or multipart with files `pieces`."""
    limit = ctx.settings.attachment_max_bytes
    count = ctx.settings.attachment_max_count
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = await request.json() if await request.body() else {}
        if not isinstance(body, dict):
            raise InvoiceError("BODY_INVALID", "Le corps de la requête doit être un objet JSON.")
        return _text(body.get("commentaire"), 2000), _int(body.get("version")), []
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > count * limit + 64 * 1024:
        raise InvoiceError("ATTACHMENTS_TOO_LARGE", "Les pièces jointes dépassent la taille "
                           "permise.", status=413, details={"limiteParPiece": limit})
    form = await request.form(max_files=count, max_fields=8, max_part_size=limit + 1)
    uploads = []
    for item in form.getlist("pieces"):
        if not isinstance(item, UploadFile):
            continue
        content = await item.read(limit + 1)
        if len(content) > limit:
            raise InvoiceError("ATTACHMENT_TOO_LARGE", f"La pièce « {item.filename} » dépasse "
                               f"{limit // (1024 * 1024)} Mo.", status=413,
                               details={"limiteOctets": limit})
        if not content:
            raise InvoiceError("ATTACHMENT_EMPTY", f"La pièce « {item.filename} » est vide.")
        uploads.append((item, content))
    comment = form.get("commentaire")
    version = form.get("version")
    return (_text(comment if isinstance(comment, str) else None, 2000),
            _int(version if isinstance(version, str) else None), uploads)
