"""« Factures reçues » / « Factures émises » for people: statuses and actions in French, the
list filters read from a page's address, the actions a person is shown, and the names of the
files they download (never the name a supplier gave). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chorale_portal.domain.form_errors import FormErrors
from chorale_portal.domain.formatting import amount_filter, day_of, page_number

STATUSES: dict[str, str] = {
    "DEPOSEE": "Déposée", "MISE_A_DISPOSITION": "Mise à disposition",
    "PRISE_EN_CHARGE": "Prise en charge", "SERVICE_FAIT": "Service fait",
    "MANDATEE": "Mandatée", "SUSPENDUE": "Suspendue", "COMPLETEE": "Complétée",
    "A_RECYCLER": "À recycler", "REJETEE": "Rejetée", "MISE_EN_PAIEMENT": "Mise en paiement",
}
FINAL = frozenset({"REJETEE", "MISE_EN_PAIEMENT"})
WAITING_FOR_SUPPLIER = frozenset({"SUSPENDUE", "A_RECYCLER"})


@dataclass(frozen=True)
class ActionText:
    button: str
    explanation: str
    motif: bool = False
    final: bool = False


# The recipient's actions (invoices service, `POST /v1/factures-recues/{id}/<action>`).
RECIPIENT_ACTIONS: dict[str, ActionText] = {
    "prise-en-charge": ActionText("Prendre en charge",
                                  "Vous commencez le traitement de la facture."),
    "service-fait": ActionText("Constater le service fait",
                               "La prestation ou la livraison facturée a bien eu lieu."),
    "mandatee": ActionText("Marquer mandatée", "Le mandat de paiement est émis."),
    "suspendre": ActionText("Suspendre", "La facture attend un complément du fournisseur : "
                            "choisissez le motif, il le verra.", motif=True),
    "a-recycler": ActionText("À recycler", "Mauvais service ou numéro d'engagement : le "
                             "fournisseur la réadresse.", motif=True),
    "rejeter": ActionText("Rejeter", "Le rejet est définitif : le fournisseur devra émettre "
                          "une nouvelle facture.", motif=True, final=True),
    "mise-en-paiement": ActionText("Mettre en paiement",
                                   "Le paiement est transmis au comptable. Statut définitif.",
                                   final=True),
}
SUPPLIER_ACTIONS = ("completer", "readresser")
AUTHORS = {"DESTINATAIRE": "le destinataire", "FOURNISSEUR": "le fournisseur",
           "PLATEFORME": "la plateforme"}

RECEIVED_FILTERS = ("structure", "codeService", "statut", "fournisseur", "numeroFacture",
                    "dateDepotDebut", "dateDepotFin", "montantMin", "montantMax")
ISSUED_FILTERS = ("structure", "statut", "destinataire", "numeroFacture", "dateDepotDebut",
                  "dateDepotFin", "montantMin", "montantMax")
_DATES = ("dateDepotDebut", "dateDepotFin")
_AMOUNTS = ("montantMin", "montantMax")


def list_filters(params: Mapping[str, str], names: tuple[str, ...], default_structure: str
                 ) -> tuple[dict[str, str], dict[str, Any], FormErrors]:
    """What the filter form shows again, the invoices service's query, and the values dropped
    as unreadable (said next to their field)."""
    shown = {k: (params.get(k) or "").strip()[:100] for k in names}
    shown["structure"] = shown["structure"] or default_structure
    errors = FormErrors()
    query: dict[str, Any] = {}
    for name, value in shown.items():
        if not value:
            continue
        if name == "statut" and value not in STATUSES:
            errors.add(name, "Statut : choisissez un statut de la liste.")
        elif name in _DATES and day_of(value) is None:
            errors.add(name, "Date : indiquez une date au format JJ/MM/AAAA.")
        elif name in _AMOUNTS:
            amount = amount_filter(value)
            if isinstance(amount, float):
                query[name] = amount
            else:
                errors.add(name, "Montant : indiquez un nombre, par exemple 1200,50.")
        else:
            query[name] = value
    for name in errors.fields:
        shown[name] = ""
    query["page"] = page_number(params)
    return shown, query, errors


def safe_file_name(stem: str, extension: str) -> str:
    """A download's name made by the portal: only letters, digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:100] or "document"
    return f"{cleaned}.{extension}"


def original_type(content_type: str | None) -> tuple[str, str]:
    """The original's media type and extension: XML or PDF as the intake says, else bytes."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/pdf":
        return "application/pdf", "pdf"
    if kind in ("application/xml", "text/xml"):
        return "application/xml", "xml"
    return "application/octet-stream", "bin"


def content_disposition(name: str) -> str:
    return f'attachment; filename="{name}"'


def attachments_of(invoice: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The attachments named in the invoice's history, by id."""
    found: dict[str, dict[str, Any]] = {}
    for step in invoice.get("historique") or []:
        for piece in step.get("piecesJointes") or []:
            if piece.get("pieceId"):
                found[piece["pieceId"]] = piece
    return found
