"""Every template renders in French, text and HTML, values escaped in HTML, one-line subject."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chorale_contracts.events.flows import FlowError, FlowStatusChanged
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_notifications.adapters.templates import render
from chorale_notifications.domain import compose

TEMPLATES = sorted(
    p.stem for p in (Path(compose.__file__).parents[1] / "templates").glob("*.txt")
)
BASE = {"salutation": "Bonjour Zoé,", "lien": "https://portail.test/x",
        "lien_messages": "https://portail.test/mes-messages"}
VALUES = {
    "structure": "Commune <script>", "demandeur": "Jean & Co", "demandeur_email": "j@x.test",
    "commentaire": "a\nb", "successeur": "Noé", "precedent": "", "changements": ["l1", "<l2>"],
    "nombre": "2 modifications", "numero": "FLX-1", "fichier": "f.xml", "date_depot": "d",
    "partenaire": "P", "canal": "EDI", "codes": "X", "erreurs": ["X — m"],
    "numero_facture": "F-1", "fournisseur": "Four", "destinataire": "Dest",
    "date_facture": "02/11/2026", "montant": "1 EUR", "numero_flux": "FLX-1",
    "expiration": "demain", "invitant": "Gaëlle <b>",
}


def test_there_is_a_template_for_every_kind_of_message():
    assert set(TEMPLATES) >= {
        "rattachement_demande", "rattachement_approuve", "rattachement_direct",
        "rattachement_refuse", "gp_cedant", "gp_beneficiaire", "habilitations", "flux_rejete",
        "facture_mise_a_disposition", "verification_email", "reinitialisation_mot_de_passe",
    }


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_renders_text_and_escaped_html(name):
    out = render(name, {**BASE, **VALUES})
    assert out.subject and "\n" not in out.subject
    assert out.text.startswith("Bonjour Zoé,")
    assert "<script>" not in out.html and "$" not in out.html and "$" not in out.text
    assert out.html.startswith("<!DOCTYPE html>") and 'lang="fr"' in out.html


def test_lists_become_bullets_and_list_items():
    out = render("habilitations", {**BASE, **VALUES})
    assert "  • l1\n  • <l2>" in out.text
    assert "<li>l1</li><li>&lt;l2&gt;</li>" in out.html


def test_a_value_cannot_break_the_subject_line():
    out = render("rattachement_demande", {**BASE, **VALUES,
                                          "structure": "X\r\nBcc: victim@example.test"})
    assert out.subject == "Demande de rattachement à valider : X Bcc: victim@example.test"


def test_a_missing_value_fails_loudly():
    with pytest.raises(KeyError):
        render("flux_rejete", BASE)


def test_flow_rejected_draft_lists_codes_and_messages():
    event = FlowStatusChanged(
        numeroFluxDepot="FLX-9", statut="IN_REJETE", canal="API", technicalAccountId="t",
        structurePartenaire="P", nomFichier="f.xml",
        dateDepot=datetime(2026, 11, 3, 9, 5, tzinfo=UTC),
        erreurs=[FlowError(code="B", message="m2", level="FACTURE"),
                 FlowError(code="A", message="m1", level="FLUX")],
    )
    draft = compose.flow_rejected(event, "Fournisseur (P)")
    assert draft.context["codes"] == "A, B"
    assert draft.context["erreurs"] == ["B — m2", "A — m1"]
    assert draft.context["date_depot"] == "03/11/2026 09:05"


def test_invoice_draft_names_supplier_and_service():
    event = InvoiceMadeAvailable(
        invoiceId="i", numeroFluxDepot="FLX", statut="MISE_A_DISPOSITION", destinataire="D",
        codeService="S1", fournisseur="123", raisonSocialeFournisseur="Four SA",
        numeroFacture="F-1", dateFacture=date(2026, 1, 2), dateDepot=date(2026, 1, 3),
        montantTTC=Decimal("10.00"),
    )
    ctx = compose.invoice_available(event, "Commune (D)").context
    assert ctx["fournisseur"] == "Four SA (123)"
    assert ctx["destinataire"] == "Commune (D) (service S1)"
    assert ctx["montant"] == "10.00 EUR"


def test_habilitation_lines_say_what_changed():
    base = {"application": "FACTURES_RECUES", "mode": "MODIFICATION", "codeService": None}
    assert compose.habilitation_line({**base, "kind": "granted"}, "C") == (
        "« Factures reçues » en modification sur C : accordée")
    assert compose.habilitation_line(
        {**base, "kind": "changed", "previousMode": "CONSULTATION"}, "C") == (
        "« Factures reçues » sur C : consultation → modification")
    assert compose.habilitation_line({**base, "kind": "revoked", "codeService": "S"}, "C") == (
        "« Factures reçues » en modification sur C (service S) : retirée")


def test_every_link_purpose_identity_sends_has_its_template():
    from typing import get_args

    from chorale_contracts.events.identity import UserVerificationRequested
    from chorale_notifications.adapters.templates import template_exists
    from chorale_notifications.domain.compose import PURPOSE_TEMPLATES

    purposes = set(get_args(UserVerificationRequested.model_fields["purpose"].annotation))
    assert purposes == set(PURPOSE_TEMPLATES)
    assert all(template_exists(t) for t in PURPOSE_TEMPLATES.values())
