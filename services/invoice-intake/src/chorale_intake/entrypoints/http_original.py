"""The original file of an integrated invoice, as archived at deposit (read-only).

`GET /v1/invoices/{invoiceId}/original`: the exact bytes the partner deposited. The caller's own
token is authorized here, through the runtime's shared authorizer (the invoices service links
to this route; the two services share no database): « Factures reçues » (consultation) on the
recipient structure, or its service, or « Factures émises » (consultation) on the supplier
structure; the depositing partner's technical accounts; operators. Anyone else is told the
invoice does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from chorale_contracts.events.common import Application, Mode
from chorale_intake.adapters.archive import Archive
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.domain.flow import FactureIntegree, Flow
from chorale_intake.domain.numbering import is_flow_number
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer
from chorale_runtime.errors import ApiError

INVOICE_PREFIX, FLOW_PREFIX = "FAC", "FLX"


def _not_found(invoice_id: str) -> ApiError:
    return ApiError("INVOICE_NOT_FOUND", f"Facture {invoice_id[:64]} introuvable.", 404)


def _media_type(head: bytes) -> str:
    return "application/pdf" if head.startswith(b"%PDF") else "application/xml"


def build_original_router(
    *, store: FlowStore, archive: Archive, authorizer: Authorizer,
    current: Callable[..., Awaitable[Principal]],
) -> APIRouter:
    router = APIRouter(prefix="/v1/invoices", tags=["factures"])
    who = Depends(current)

    async def allowed(principal: Principal, flow: Flow, invoice: FactureIntegree) -> bool:
        if principal.is_operator:
            return True
        if principal.is_technical:
            return principal.structure == flow.structurePartenaire
        for structure, application, service in (
            (invoice.destinataire, Application.FACTURES_RECUES, invoice.codeService),
            (invoice.fournisseur, Application.FACTURES_EMISES, None),
        ):
            try:
                await authorizer.require(principal, structure, application, Mode.CONSULTATION,
                                         service)
                return True
            except ApiError:
                continue
        return False

    @router.get("/{invoiceId}/original", summary="Fichier original d'une facture intégrée",
                response_class=FileResponse)
    async def original(invoiceId: str, principal: Principal = who) -> FileResponse:
        number = FLOW_PREFIX + invoiceId.removeprefix(INVOICE_PREFIX)
        if not invoiceId.startswith(INVOICE_PREFIX) or not is_flow_number(number):
            raise _not_found(invoiceId)
        flow = await store.terminal(number)
        invoice = next((f for f in flow.factures if f.invoiceId == invoiceId), None) if flow \
            else None
        if flow is None or invoice is None or not await allowed(principal, flow, invoice):
            raise _not_found(invoiceId)
        path = archive.path_of(flow.archive)
        try:
            with path.open("rb") as handle:
                head = handle.read(8)
        except FileNotFoundError:
            raise ApiError("ORIGINAL_UNAVAILABLE", "Le fichier original n'est plus disponible "
                           "dans l'archive.", 410) from None
        return FileResponse(path, media_type=_media_type(head), filename=flow.nomFichier,
                            headers={"X-Content-Type-Options": "nosniff",
                                     "Cache-Control": "private, no-store"})

    return router
