"""What each message says: the template and the values it is rendered with. Pure functions
of the event and of names the caller looked up in its read models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chorale_contracts.events.common import APPLICATION_LABELS, Application
from chorale_contracts.events.flows import FlowStatusChanged
from chorale_contracts.events.invoice_status import InvoiceStatus, InvoiceStatusChanged
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_notifications.domain.categories import Category

# Stands for a single-use link in a stored message; replaced by the link identity mints at
# sending time, in the SMTP message only (nothing matching it needs escaping in HTML).
LINK_PLACEHOLDER = "CHORALE-LIEN-A-USAGE-UNIQUE"

PURPOSE_TEMPLATES = {
    "EMAIL_VERIFICATION": "verification_email",
    "PASSWORD_RESET": "reinitialisation_mot_de_passe",
    "CONTACT_EMAIL_VERIFICATION": "confirmation_adresse_contact",
}


@dataclass(frozen=True)
class Draft:
    category: Category
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def where(structure_name: str, code_service: str | None) -> str:
    return f"{structure_name} (service {code_service})" if code_service else structure_name


def structure_label(identifiant: str, name: str | None) -> str:
    return f"{name} ({identifiant})" if name else identifiant


def greeting(prenom: str | None) -> str:
    return f"Bonjour {prenom}," if prenom else "Bonjour,"


def flow_rejected(event: FlowStatusChanged, partner: str) -> Draft:
    errors = [f"{e.code} — {e.message}" for e in event.erreurs] or ["(aucun détail transmis)"]
    return Draft(Category.FLUX_REJETE, "flux_rejete", {
        "numero": event.numeroFluxDepot,
        "fichier": event.nomFichier,
        "date_depot": event.dateDepot.strftime("%d/%m/%Y %H:%M"),
        "partenaire": partner,
        "canal": event.canal,
        "codes": ", ".join(sorted({e.code for e in event.erreurs})) or "—",
        "erreurs": errors,
    })


def invoice_available(event: InvoiceMadeAvailable, recipient: str) -> Draft:
    amount = "—"
    if event.montantTTC is not None:
        amount = f"{event.montantTTC} {event.devise or 'EUR'}"
    return Draft(Category.FACTURE_MISE_A_DISPOSITION, "facture_mise_a_disposition", {
        "numero_facture": event.numeroFacture,
        "fournisseur": structure_label(event.fournisseur, event.raisonSocialeFournisseur),
        "destinataire": where(recipient, event.codeService),
        "date_facture": event.dateFacture.strftime("%d/%m/%Y"),
        "montant": amount,
        "numero_flux": event.numeroFluxDepot,
    })


# The statuses the supplier is told of by message (when the recipient lets it see them).
SUPPLIER_TOLD = frozenset({InvoiceStatus.SUSPENDUE, InvoiceStatus.REJETEE,
                           InvoiceStatus.A_RECYCLER, InvoiceStatus.MISE_EN_PAIEMENT})
_NEXT_STEP = {
    InvoiceStatus.SUSPENDUE: "Complétez-la (commentaire, pièces jointes) dans Factures émises "
                             "pour que son traitement reprenne.",
    InvoiceStatus.A_RECYCLER: "Réadressez-la (code service, numéro d'engagement) dans Factures "
                              "émises.",
    InvoiceStatus.REJETEE: "Ce rejet est définitif.",
    InvoiceStatus.MISE_EN_PAIEMENT: "Le paiement a été transmis au comptable public.",
}


def _amount(event: InvoiceStatusChanged) -> str:
    if event.montantTTC is None:
        return "—"
    return f"{event.montantTTC} {event.devise or 'EUR'}"


def invoice_status_for_supplier(event: InvoiceStatusChanged, supplier: str) -> Draft:
    recipient = structure_label(event.destinataire, event.raisonSocialeDestinataire)
    return Draft(Category.FACTURE_STATUT, "facture_statut", {
        "numero_facture": event.numeroFacture,
        "statut": event.libelleStatut,
        "destinataire": where(recipient, event.codeService),
        "fournisseur": supplier,
        "montant": _amount(event),
        "motif": event.libelleMotif or event.motif or "(aucun)",
        "commentaire": event.commentaire or "(aucun)",
        "suite": _NEXT_STEP.get(event.statut, ""),
    })


def invoice_completed(event: InvoiceStatusChanged, recipient: str) -> Draft:
    return Draft(Category.FACTURE_COMPLETEE, "facture_completee", {
        "numero_facture": event.numeroFacture,
        "fournisseur": structure_label(event.fournisseur, event.raisonSocialeFournisseur),
        "destinataire": where(recipient, event.codeService),
        "montant": _amount(event),
        "commentaire": event.commentaire or "(aucun)",
    })


def habilitation_line(change: dict[str, Any], structure_name: str) -> str:
    label = APPLICATION_LABELS[Application(change["application"])]
    mode = change["mode"].lower()
    place = where(structure_name, change.get("codeService"))
    kind = change["kind"]
    if kind == "granted":
        return f"« {label} » en {mode} sur {place} : accordée"
    if kind == "changed":
        before = (change.get("previousMode") or "").lower()
        return f"« {label} » sur {place} : {before} → {mode}"
    return f"« {label} » en {mode} sur {place} : retirée"


def flow_rejected_line(event: FlowStatusChanged, partner: str, at: str) -> str:
    """One rejected flow in a digest."""
    codes = ", ".join(sorted({e.code for e in event.erreurs})) or "—"
    return f"{at} — flux {event.numeroFluxDepot} (fichier {event.nomFichier}, {partner}) : {codes}"


def invoice_available_line(event: InvoiceMadeAvailable, at: str) -> str:
    """One invoice made available in a digest."""
    amount = f"{event.montantTTC} {event.devise or 'EUR'}" if event.montantTTC is not None \
        else "montant non précisé"
    supplier = structure_label(event.fournisseur, event.raisonSocialeFournisseur)
    return f"{at} — facture {event.numeroFacture} de {supplier} ({amount}), " \
           f"flux {event.numeroFluxDepot}"
