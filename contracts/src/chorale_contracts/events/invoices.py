"""`chorale.invoices.v1`: invoices as received. Key: `invoiceId`."""

from datetime import date
from decimal import Decimal
from typing import Literal

from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class _InvoiceEvent(EventPayload):
    topic = Topic.INVOICES

    invoiceId: str
    numeroFluxDepot: str
    statut: Literal["DEPOSEE", "MISE_A_DISPOSITION"]
    destinataire: str
    codeService: str | None = None
    numeroEngagement: str | None = None
    fournisseur: str
    raisonSocialeFournisseur: str | None = None
    numeroFacture: str
    typeFacture: str | None = None
    dateFacture: date
    dateDepot: date
    montantHT: Decimal | None = None
    montantTVA: Decimal | None = None
    montantTTC: Decimal | None = None
    devise: str | None = None
    # Who deposited the flow: the CDAR lifecycle messages go back to this technical account.
    technicalAccountId: str | None = None
    canal: str | None = None


@event
class InvoiceDeposited(_InvoiceEvent):
    event_type = "invoice.deposited"


@event
class InvoiceMadeAvailable(_InvoiceEvent):
    event_type = "invoice.made_available"
