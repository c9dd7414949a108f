"""Every `invoice.status_changed` the supplier may see becomes a CDAR message, stored for the
partners' API and written into the depositing technical account's EDI `out/` folder.

Fed by this service's own topic (a consumer of `chorale.invoice-status.v1`): the command that
changed the status is answered at once, a replay writes the same message (same id, same name,
same bytes), and the files follow the order of each invoice's changes (one partition per key).
File name: `<YYYYMMDDTHHMMSSffffffZ>-<invoiceId>-<version:04d>.cdar.xml`: sorting the names
gives the order to process them in.
"""

from __future__ import annotations

import asyncio

from chorale_contracts import Envelope
from chorale_contracts.events.invoice_status import InvoiceStatusChanged
from chorale_invoices.adapters.cdar_store import CdarStore, cdar_id
from chorale_invoices.adapters.edi_out import EdiOut
from chorale_invoices.domain.cdar import Party, StatusMessage, build
from chorale_invoices.domain.statuses import STATUS_LABELS, Status
from chorale_invoices.metrics import CDAR_WRITTEN
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def file_name(ev: InvoiceStatusChanged) -> str:
    moment = ev.dateStatut.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{moment}-{ev.invoiceId}-{ev.version:04d}.cdar.xml"


def message_of(ev: InvoiceStatusChanged) -> StatusMessage:
    return StatusMessage(
        message_id=cdar_id(ev.invoiceId, ev.version), issued_at=ev.dateStatut,
        code=ev.codeCdar, invoice_number=ev.numeroFacture, invoice_date=ev.dateFacture,
        invoice_type=ev.typeFacture,
        sender=Party(ev.destinataire, ev.raisonSocialeDestinataire, "BY"),
        recipient=Party(ev.fournisseur, ev.raisonSocialeFournisseur, "SE"),
        seller=ev.fournisseur, motif=ev.motif, comment=ev.commentaire,
        status_label=STATUS_LABELS[Status(ev.statut.value)], sequence=ev.version)


class CdarOutput:
    def __init__(self, store: CdarStore, edi: EdiOut | None, service: str):
        self._store = store
        self._edi = edi
        self._service = service

    async def status_changed(self, _env: Envelope, ev: InvoiceStatusChanged) -> None:
        if not ev.visibleFournisseur:
            return
        xml = build(message_of(ev))
        name = file_name(ev)
        await self._store.put({
            "_id": cdar_id(ev.invoiceId, ev.version), "invoiceId": ev.invoiceId,
            "version": ev.version, "fournisseur": ev.fournisseur,
            "technicalAccountId": ev.technicalAccountId, "numeroFacture": ev.numeroFacture,
            "statut": ev.statut.value, "codeCdar": ev.codeCdar, "dateStatut": ev.dateStatut,
            "nomFichier": name, "xml": xml,
        })
        if self._edi is not None and ev.technicalAccountId:
            await asyncio.to_thread(self._edi.write, ev.technicalAccountId, name, xml)
        CDAR_WRITTEN.labels(self._service, ev.codeCdar).inc()
        log.info("cdar_written", invoice=ev.invoiceId, version=ev.version, code=ev.codeCdar)
