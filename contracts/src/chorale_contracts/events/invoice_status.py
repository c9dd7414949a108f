"""`chorale.invoice-status.v1`: every processing status of an invoice after it is made
available (services/invoices). Key: `invoiceId`, so one invoice's changes stay ordered."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class InvoiceStatus(StrEnum):
    DEPOSEE = "DEPOSEE"
    MISE_A_DISPOSITION = "MISE_A_DISPOSITION"
    PRISE_EN_CHARGE = "PRISE_EN_CHARGE"
    SERVICE_FAIT = "SERVICE_FAIT"
    MANDATEE = "MANDATEE"
    SUSPENDUE = "SUSPENDUE"
    COMPLETEE = "COMPLETEE"
    A_RECYCLER = "A_RECYCLER"
    REJETEE = "REJETEE"
    MISE_EN_PAIEMENT = "MISE_EN_PAIEMENT"


@event
class InvoiceStatusChanged(EventPayload):
    event_type = "invoice.status_changed"
    topic = Topic.INVOICE_STATUS

    invoiceId: str
    # Increases by one per change of this invoice: consumers keep the highest.
    version: int
    statut: InvoiceStatus
    libelleStatut: str  # in French, as people read it
    statutPrecedent: InvoiceStatus | None = None
    dateStatut: datetime
    typeAuteur: Literal["DESTINATAIRE", "FOURNISSEUR", "PLATEFORME"]
    auteur: str | None = None
    motif: str | None = None  # CDAR reason code (MDT-113)
    libelleMotif: str | None = None
    commentaire: str | None = None
    # False when the recipient hides this status from the supplier
    # (`statutMiseEnPaiementNestPasRemonte`): no CDAR, no mail to the supplier.
    visibleFournisseur: bool = True
    # AFNOR XP Z12-012 (CDAR D22B) status code (MDT-105).
    codeCdar: str
    numeroFluxDepot: str
    numeroFacture: str
    typeFacture: str | None = None
    dateFacture: date
    destinataire: str
    raisonSocialeDestinataire: str | None = None
    codeService: str | None = None
    numeroEngagement: str | None = None
    fournisseur: str
    raisonSocialeFournisseur: str | None = None
    technicalAccountId: str | None = None
    montantTTC: Decimal | None = None
    devise: str | None = None
