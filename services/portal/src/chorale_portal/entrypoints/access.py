"""The person's rights as the screens of part 2 check them before calling a service: an entry,
a button or a page they may not use is never shown, and its address typed by hand gives the
« Accès refusé » page (403) rather than a service's refusal or an empty list."""

from __future__ import annotations

from fastapi import Request

from chorale_portal.adapters.services_api import ServiceUnavailable
from chorale_portal.domain import labels
from chorale_portal.domain.formatting import (
    amount_fr,
    date_time_fr,
    percent_fr,
    size_fr,
    vat_category_fr,
)
from chorale_portal.domain.rights import Rights
from chorale_portal.entrypoints.web import TEMPLATES, header_of, signed_in

TEMPLATES.env.filters.setdefault("date_heure", date_time_fr)
TEMPLATES.env.filters.setdefault("montant", amount_fr)
TEMPLATES.env.filters.setdefault("taille", size_fr)
TEMPLATES.env.filters.setdefault("pourcentage", percent_fr)
TEMPLATES.env.filters.setdefault("categorie_tva", vat_category_fr)

# Messages after a redirect of these screens (labels.NOTICES: a fixed list).
labels.NOTICES.update({
    "facture_prise_en_charge": "La facture est prise en charge.",
    "facture_service_fait": "Le service fait est constaté.",
    "facture_mandatee": "La facture est marquée mandatée.",
    "facture_suspendre": "La facture est suspendue : le fournisseur est prévenu du motif.",
    "facture_a_recycler": "La facture est à recycler : le fournisseur va la réadresser.",
    "facture_rejeter": "La facture est rejetée.",
    "facture_mise_en_paiement": "La facture est mise en paiement.",
    "facture_completee": "La facture est complétée : le destinataire est prévenu.",
    "facture_readressee": "La facture est réadressée au destinataire.",
    "message_lu": "Le message est marqué comme lu.",
    "preferences_enregistrees": "Vos préférences de notification sont enregistrées.",
})


async def rights_of(request: Request) -> Rights:
    """The signed-in person's rights (sign-in first when nobody is); the 503 page when the
    habilitations service cannot tell them."""
    await signed_in(request)
    header = await header_of(request)
    if header is None or header.rights is None:
        raise ServiceUnavailable("habilitations", "rights unknown")
    return header.rights

