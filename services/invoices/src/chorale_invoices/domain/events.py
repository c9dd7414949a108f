"""The `invoice.status_changed` event of one step of an invoice's history. Pure."""

from __future__ import annotations

import uuid
from datetime import date

from chorale_contracts import Envelope, new_envelope
from chorale_contracts.events.invoice_status import InvoiceStatus, InvoiceStatusChanged
from chorale_invoices.domain.invoice import Invoice
from chorale_invoices.domain.statuses import (
    CDAR_CODES,
    MOTIF_LABELS,
    STATUS_LABELS,
    visible_to_supplier,
)

_NAMESPACE = uuid.UUID("5d0f8a3e-2b7c-4e61-9a54-7c1e0b3f6d21")


def step_event(invoice: Invoice, index: int, *, hide_payment: bool,
               recipient_name: str | None) -> InvoiceStatusChanged:
    """The event of history step `index` (0-based; the invoice's version after it is
    `index + 1`)."""
    step = invoice.historique[index]
    previous = invoice.historique[index - 1].statut if index else None
    return InvoiceStatusChanged(
        invoiceId=invoice.invoiceId, version=index + 1, statut=InvoiceStatus(step.statut),
        libelleStatut=STATUS_LABELS[step.statut],
        libelleMotif=MOTIF_LABELS.get(step.motif) if step.motif else None,
        statutPrecedent=InvoiceStatus(previous) if previous else None, dateStatut=step.date,
        typeAuteur=step.typeAuteur.value, auteur=step.auteur, motif=step.motif,
        commentaire=step.commentaire,
        visibleFournisseur=visible_to_supplier(step.statut, hide_payment),
        codeCdar=CDAR_CODES[step.statut], numeroFluxDepot=invoice.numeroFluxDepot,
        numeroFacture=invoice.numeroFacture, typeFacture=invoice.typeFacture,
        dateFacture=date.fromisoformat(invoice.dateFacture),
        destinataire=invoice.destinataire, raisonSocialeDestinataire=recipient_name,
        codeService=invoice.codeService, numeroEngagement=invoice.numeroEngagement,
        fournisseur=invoice.fournisseur,
        raisonSocialeFournisseur=invoice.raisonSocialeFournisseur,
        technicalAccountId=invoice.technicalAccountId,
        montantTTC=invoice.montantTTC, devise=invoice.devise,
    )


def envelopes(invoice: Invoice, first: int, *, hide_payment: bool, recipient_name: str | None,
              producer: str, correlation_id: str | None, causation_id: str | None
              ) -> list[Envelope]:
    """The envelopes of steps `first`.. of the history, with ids derived from (invoice,
    version): a replayed command or event publishes the same ids."""
    return [
        new_envelope(
            step_event(invoice, i, hide_payment=hide_payment, recipient_name=recipient_name),
            key=invoice.invoiceId, producer=producer, correlation_id=correlation_id,
            causation_id=causation_id,
            event_id=uuid.uuid5(_NAMESPACE, f"{invoice.invoiceId}/{i + 1}"),
            occurred_at=invoice.historique[i].date,
        )
        for i in range(first, len(invoice.historique))
    ]
