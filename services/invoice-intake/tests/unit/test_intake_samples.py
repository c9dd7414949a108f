from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.extraction import DocumentKind
from chorale_testkit import invoices as samples


@pytest.mark.parametrize("lines", [1, 2, 17, 250])
@pytest.mark.parametrize("credit_note", [False, True])
def test_samples_are_xsd_valid_at_every_size(kit, syntax, lines, credit_note):
    raw = kit.make(syntax, lines=lines, credit_note=credit_note, service_code="S", engagement="E")
    analysis = analyse(raw, syntax)
    assert analysis.accepted, analysis.errors
    facts = analysis.facts
    expected_kind = DocumentKind.CREDIT_NOTE if credit_note else DocumentKind.INVOICE
    assert facts.document_kind is expected_kind
    amounts = samples.invoice_amounts(lines, "100.00", "20.00")
    assert (facts.total_without_tax, facts.tax_total, facts.total_with_tax) == (
        amounts.total_without_tax,
        amounts.tax_total,
        amounts.total_with_tax,
    )


def test_amounts_add_up():
    amounts = samples.invoice_amounts(5, "9.99", "5.5")
    assert amounts.total_without_tax == sum(row[2] for row in amounts.lines)
    assert amounts.tax_total == (amounts.total_without_tax * Decimal("0.055")).quantize(
        Decimal("0.01")
    )
    assert amounts.total_with_tax == amounts.total_without_tax + amounts.tax_total
    with pytest.raises(ValueError):
        samples.invoice_amounts(0, "1", "20")


def test_values_are_escaped(kit, syntax):
    raw = kit.make(syntax, number='F<1>&"2"', supplier_name="Dupont & Fils <SARL>")
    facts = kit.facts_of(raw)
    assert facts.number == 'F<1>&"2"'
    assert facts.supplier_name == "Dupont & Fils <SARL>"


def test_optional_fields_are_absent_when_not_given(kit, syntax):
    raw = kit.make(syntax)
    assert b"BuyerReference" not in raw and b"OrderReference" not in raw
    facts = kit.facts_of(raw)
    assert (facts.service_code, facts.engagement) == (None, None)


def test_default_issue_date_is_today():
    raw = samples.make_cii_invoice(buyer_siret="1", supplier_siret="2")
    assert analyse(raw).facts.issue_date == date.today()


def test_unknown_syntax_is_refused():
    with pytest.raises(ValueError):
        samples.make_invoice("PDF", buyer_siret="1", supplier_siret="2")


def test_generation_is_fast():
    started = time.perf_counter()
    for i in range(500):
        samples.make_ubl_invoice(
            buyer_siret="20007104100046", supplier_siret="73282932000074", number=f"F{i}", lines=20
        )
    assert time.perf_counter() - started < 2  # ~0.1 s here; 10,000 files in a few seconds
