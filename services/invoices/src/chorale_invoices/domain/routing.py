"""Re-addressing an invoice sent back « à recycler »: the new code service and engagement are
checked against the recipient's rules from the directory, with the intake's rule codes
(DESIGN.md "Invoice intake"). A small copy of those few rules, not an import of the intake's
pipeline: the two services share no code beyond the contracts. Pure."""

from __future__ import annotations

from datetime import date

from chorale_contracts.events.common import StatutService
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_invoices.domain.errors import InvoiceError

RESERVED_SERVICE = "FACTURES_PUBLIQUES"
ENGAGEMENT_MAX = 50


def check_routing(recipient: DirectorySnapshot | None, code_service: str | None,
                  engagement: str | None, issue_date: date) -> None:
    """Raise the first rule the new routing breaks (422, the intake's code)."""
    if recipient is None:
        raise InvoiceError("RECIPIENT_UNKNOWN", "Le destinataire n'est pas connu de l'annuaire.")
    params = recipient.parametres
    if engagement is not None and len(engagement) > ENGAGEMENT_MAX:
        raise InvoiceError("ENGAGEMENT_TOO_LONG",
                           f"Le numéro d'engagement dépasse {ENGAGEMENT_MAX} caractères.")
    service = None
    if code_service:
        service = next((s for s in recipient.services if s.codeService == code_service), None)
        if service is None:
            raise InvoiceError("SERVICE_UNKNOWN",
                               f"Le service « {code_service} » n'existe pas chez le destinataire.")
        if code_service == RESERVED_SERVICE:
            raise InvoiceError("SERVICE_RESERVED", "Le service FACTURES_PUBLIQUES est réservé "
                               "à la facturation entre entités publiques.")
        active = service.statut is StatutService.ACTIF and service.dateDebutActivation <= issue_date
        if service.dateFinActivation is not None and issue_date > service.dateFinActivation:
            active = False
        if not active:
            raise InvoiceError("SERVICE_INACTIVE",
                               f"Le service « {code_service} » n'est pas actif.")
    if params.gestionNumeroEJOuCodeService:
        if not code_service and not engagement:
            raise InvoiceError("SERVICE_OR_ENGAGEMENT_REQUIRED",
                               "Le destinataire exige un code service ou un numéro d'engagement.")
        return
    if params.codeServiceDoitEtreRenseigne and not code_service:
        raise InvoiceError("SERVICE_CODE_REQUIRED", "Le destinataire exige un code service.")
    needs_engagement = params.numeroEJDoitEtreRenseigne or (
        service is not None and service.numeroEJDoitEtreRenseigne)
    if needs_engagement and not engagement:
        raise InvoiceError("ENGAGEMENT_REQUIRED",
                           "Le destinataire exige un numéro d'engagement.")
