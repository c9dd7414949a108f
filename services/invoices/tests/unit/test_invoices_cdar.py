"""Every CDAR the service can send is valid against the D22B XSD (lxml) and the BR-FR-CDV rules
(compiled XSLT 2.0 run with saxonche); the validators do catch a broken message."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from chorale_invoices.domain.cdar import RAM, Party, StatusMessage, build
from chorale_invoices.domain.cdar_validation import rule_findings, xsd_errors
from chorale_invoices.domain.statuses import CDAR_CODES, MOTIFS, STATUS_LABELS, Action, Status

BUYER = Party("21690123100011", "Commune de Test", "BY")
SELLER = Party("73282932000074", "Fournisseur & Fils <SARL>", "SE")


def _message(code: str, motif: str | None = None, comment: str | None = None,
             **extra: object) -> StatusMessage:
    return StatusMessage(
        message_id="FAC20261203-01JHCX3Z7Q9K2M4N5P6R7S8T9V-0003", issued_at=datetime.now(UTC),
        code=code, invoice_number="F-2026-0042", invoice_date=date(2026, 12, 1),
        invoice_type="380", sender=BUYER, recipient=SELLER, seller=SELLER.siret, motif=motif,
        comment=comment, **extra)  # type: ignore[arg-type]


def _assert_valid(xml: bytes) -> None:
    assert xsd_errors(xml) == []
    assert [f for f in rule_findings(xml) if f.flag == "fatal"] == []


@pytest.mark.parametrize("status", list(Status))
def test_each_status_without_motif_is_a_valid_cdar(status: Status) -> None:
    if status in (Status.SUSPENDUE, Status.A_RECYCLER, Status.REJETEE):
        return  # carry a motif: below
    _assert_valid(build(_message(CDAR_CODES[status], comment="Commentaire « libre » & <court>",
                                 status_label=STATUS_LABELS[status])))


@pytest.mark.parametrize(("action", "status"), [
    (Action.SUSPENDRE, Status.SUSPENDUE), (Action.A_RECYCLER, Status.A_RECYCLER),
    (Action.REJETER, Status.REJETEE),
])
def test_each_motif_is_a_valid_cdar(action: Action, status: Status) -> None:
    for motif in MOTIFS[action]:
        _assert_valid(build(_message(CDAR_CODES[status], motif, "Pièce manquante")))


def test_the_message_says_what_the_partner_needs() -> None:
    xml = build(_message("208", "JUSTIF_ABS", "Bon de livraison manquant"))
    root = etree.fromstring(xml)
    ns = {"ram": RAM}
    assert root.findtext(".//ram:ReferenceReferencedDocument/ram:IssuerAssignedID",
                         namespaces=ns) == "F-2026-0042"
    assert root.findtext(".//ram:ProcessConditionCode", namespaces=ns) == "208"
    assert root.findtext(".//ram:ReasonCode", namespaces=ns) == "JUSTIF_ABS"
    assert root.findtext(".//ram:Reason", namespaces=ns) == "Bon de livraison manquant"


def test_the_validators_catch_a_broken_message() -> None:
    # A suspension without its motif breaks BR-FR-CDV-15; a foreign element breaks the XSD.
    findings = rule_findings(build(_message("208")))
    assert "BR-FR-CDV-15_MDT-113" in {f.rule for f in findings}
    broken = build(_message("204")).replace(b"<ram:TypeCode>23</ram:TypeCode>",
                                            b"<ram:Inconnu>23</ram:Inconnu>")
    assert xsd_errors(broken)
