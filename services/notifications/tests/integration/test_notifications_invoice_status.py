"""Invoice status changes (`chorale.invoice-status.v1`) reach the right people: the supplier's
« Factures émises » holders on suspension, rejection, à recycler and a visible mise en
paiement; the recipient's « Factures reçues » holders of the service on completion."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chorale_contracts.events.invoice_status import InvoiceStatusChanged
from chorale_runtime.testing.kafka_probe import eventually

from .conftest import email_of

pytestmark = pytest.mark.integration

COMMUNE = "21750001600019"
PARTNER = "73282932000074"


def changed(number: str, statut: str, version: int, **fields: Any) -> InvoiceStatusChanged:
    labels = {"SUSPENDUE": "Suspendue", "COMPLETEE": "Complétée", "REJETEE": "Rejetée",
              "MISE_EN_PAIEMENT": "Mise en paiement", "PRISE_EN_CHARGE": "Prise en charge"}
    return InvoiceStatusChanged(**{
        "invoiceId": "FAC-1", "version": version, "statut": statut,
        "libelleStatut": labels[statut], "dateStatut": datetime.now(UTC),
        "typeAuteur": "DESTINATAIRE", "codeCdar": "208", "numeroFluxDepot": "FLX-1",
        "numeroFacture": number, "dateFacture": date(2026, 12, 1), "destinataire": COMMUNE,
        "raisonSocialeDestinataire": "Commune de Testville", "codeService": "S1",
        "fournisseur": PARTNER, "raisonSocialeFournisseur": "Fournitures Dupont SA",
        "montantTTC": Decimal("1200.50"), "devise": "EUR", **fields})


async def test_status_changes_mail_the_supplier_and_the_recipient(publish, smtp, notifications):
    async with notifications():
        for uid in ("fournisseur", "fr-s1", "fr-s2", "autre"):
            await publish.user(uid, prenom="Prénom", nom="Nom")
        await publish.grant("fournisseur", PARTNER, "FACTURES_EMISES", "CONSULTATION")
        await publish.grant("fr-s1", COMMUNE, "FACTURES_RECUES", "MODIFICATION", "S1")
        await publish.grant("fr-s2", COMMUNE, "FACTURES_RECUES", "MODIFICATION", "S2")
        await publish.grant("autre", COMMUNE, "FACTURES_EMISES", "MODIFICATION")

        await publish(changed("F-1", "SUSPENDUE", 3, motif="JUSTIF_ABS",
                              libelleMotif="Justificatif absent ou insuffisant",
                              commentaire="Bon de livraison manquant"), "FAC-1")

        async def mail(uid: str, starts: str) -> Any:
            async def found() -> Any:
                return next((m for m in smtp.catcher.to(email_of(uid))
                             if m.subject.startswith(starts)), None)
            return await eventually(found, timeout=60)

        suspended = await mail("fournisseur", "Votre facture F-1 : Suspendue")
        assert "Justificatif absent ou insuffisant" in suspended.text
        assert "Bon de livraison manquant" in suspended.text
        assert "https://portail.test/factures-emises/FAC-1" in suspended.text

        await publish(changed("F-1", "COMPLETEE", 4, typeAuteur="FOURNISSEUR",
                              commentaire="Voici le bon"), "FAC-1")
        done = await mail("fr-s1", "Facture complétée par le fournisseur : F-1")
        assert "Voici le bon" in done.text and "Fournitures Dupont SA" in done.text

        # A payment the recipient hides, then (same key, so after it) a visible one.
        await publish(changed("F-CACHE", "MISE_EN_PAIEMENT", 5, visibleFournisseur=False),
                      "FAC-1")
        await publish(changed("F-VU", "MISE_EN_PAIEMENT", 6), "FAC-1")
        await mail("fournisseur", "Votre facture F-VU : Mise en paiement")
        # Taking in charge tells nobody.
        await publish(changed("F-PEC", "PRISE_EN_CHARGE", 7), "FAC-1")
        await publish(changed("F-FIN", "REJETEE", 8, motif="DOUBLON"), "FAC-1")
        await mail("fournisseur", "Votre facture F-FIN : Rejetée")

    told = [m.subject for m in smtp.catcher.to(email_of("fournisseur"))]
    assert not any("F-CACHE" in s or "F-PEC" in s for s in told)
    for uid in ("fr-s2", "autre"):  # (they do get the digest of their new habilitations)
        assert not any("F-" in m.subject for m in smtp.catcher.to(email_of(uid)))
