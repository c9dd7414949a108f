"""What each message says: the template and the values it is rendered with. Pure functions
of the event and of names the caller looked up in its read models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chorale_contracts.events.common import APPLICATION_LABELS, Application
from chorale_contracts.events.flows import FlowStatusChanged
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
