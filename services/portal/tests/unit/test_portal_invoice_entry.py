"""« Saisir une facture »: the amounts computed from the lines (pure), the form's checks, and
the CII made of an entry — checked by the intake's own validator (XSD, EN 16931 and the French
rules with their official flags), the one every deposited flow goes through."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.business_rules import BrFrMode
from chorale_portal.domain.invoice_entry import (
    InvoiceEntry,
    Line,
    Party,
    cii_invoice,
    entry_of,
    french_vat_number,
    totals,
)

TODAY = date(2026, 3, 10)
SELLER = Party("73282932000074", "Fournitures Martin & Fils", "3 rue des Lilas", "10110",
               "Bar-sur-Seine")
BUYER = Party("20007104100046", "Commune de Chaource <Aube>")


def test_totals_round_each_line_then_each_rate_and_add_up():
    lines = [Line("Papier", Decimal("3"), Decimal("4.335"), Decimal("20")),
             Line("Livres", Decimal("2"), Decimal("12.50"), Decimal("5.5")),
             Line("Encre", Decimal("1.5"), Decimal("10.01"), Decimal("20")),
             Line("Exporté", Decimal("1"), Decimal("100"), Decimal("0"))]
    t = totals(lines)
    assert [line.net for line in lines] == [Decimal("13.01"), Decimal("25.00"),
                                            Decimal("15.02"), Decimal("100.00")]
    assert [(v.category, v.rate, v.basis, v.tax) for v in t.vat] == [
        ("S", Decimal("20"), Decimal("28.03"), Decimal("5.61")),
        ("S", Decimal("5.5"), Decimal("25.00"), Decimal("1.38")),
        ("Z", Decimal("0"), Decimal("100.00"), Decimal("0.00"))]
    assert t.lines_total == Decimal("153.03") and t.tax_total == Decimal("6.99")
    assert t.grand_total == Decimal("160.02")


def test_the_french_vat_number_comes_from_the_siren():
    assert french_vat_number("73282932000074") == "FR44732829320"
    assert french_vat_number("ABC") is None


def _form(**overrides):
    form = {"numero": "F-2026-001", "dateFacture": "2026-03-09", "dateEcheance": "2026-04-08",
            "codeService": "COMPTA", "numeroEngagement": "EJ-77", "lignes": "3",
            "ligne-1-libelle": "Ramette papier", "ligne-1-quantite": "10",
            "ligne-1-prix": "4,35", "ligne-1-tva": "20",
            "ligne-2-libelle": "Manuel scolaire", "ligne-2-quantite": "2,5",
            "ligne-2-prix": "18", "ligne-2-tva": "5.5",
            "ligne-3-libelle": "", "ligne-3-quantite": "", "ligne-3-prix": "",
            "ligne-3-tva": "20"}
    form.update(overrides)
    return form


def test_the_form_becomes_an_entry_and_empty_rows_are_ignored():
    entry, errors = entry_of(_form(), seller=SELLER, buyer=BUYER, today=TODAY)
    assert not errors and entry is not None
    assert [(line.description, line.quantity, line.unit_price, line.vat_rate)
            for line in entry.lines] == [
        ("Ramette papier", Decimal("10"), Decimal("4.35"), Decimal("20")),
        ("Manuel scolaire", Decimal("2.5"), Decimal("18"), Decimal("5.5"))]
    assert entry.totals.grand_total == Decimal("99.68")  # 43.50 + 8.70 + 45.00 + 2.48


@pytest.mark.parametrize(("overrides", "field"), [
    ({"numero": ""}, "numero"),
    ({"numero": "F<1>"}, "numero"),
    ({"dateFacture": "2026-03-11"}, "dateFacture"),  # in the future
    ({"dateFacture": "hier"}, "dateFacture"),
    ({"dateEcheance": "2026-03-01"}, "dateEcheance"),
    ({"ligne-1-quantite": "-1"}, "ligne-1-quantite"),
    ({"ligne-1-quantite": "1e3"}, None),  # read as 1000: a number all the same
    ({"ligne-1-prix": "beaucoup"}, "ligne-1-prix"),
    ({"ligne-1-tva": "19.6"}, "ligne-1-tva"),
    ({"ligne-2-libelle": ""}, "ligne-2-libelle"),
    ({"numeroEngagement": "E" * 51}, "numeroEngagement"),
    ({"iban": "FR76!"}, "iban"),
    ({"ligne-1-libelle": "", "ligne-1-quantite": "", "ligne-1-prix": "",
      "ligne-2-libelle": "", "ligne-2-quantite": "", "ligne-2-prix": ""}, "ligne-1-libelle"),
])
def test_the_form_says_what_is_wrong_next_to_the_field(overrides, field):
    entry, errors = entry_of(_form(**overrides), seller=SELLER, buyer=BUYER, today=TODAY)
    if field is None:
        assert not errors and entry is not None
    else:
        assert entry is None and field in errors.fields, errors


def test_an_unknown_recipient_is_said_on_its_field():
    entry, errors = entry_of(_form(), seller=SELLER, buyer=None, today=TODAY)
    assert entry is None and "destinataire" in errors.fields


@pytest.mark.parametrize("iban", [None, "FR7630006000011234567890189"])
def test_the_cii_passes_the_intakes_xsd_en16931_and_french_rules(iban):
    entry = InvoiceEntry(
        number="F-2026-001", issue_date=TODAY, due_date=date(2026, 4, 9), seller=SELLER,
        buyer=BUYER, service_code="COMPTA", engagement="EJ-77", iban=iban,
        note="Livraison du 9 mars",
        lines=(Line("Ramette papier A4 « 80 g »", Decimal("10"), Decimal("4.335"),
                    Decimal("20")),
               Line("Manuel", Decimal("2.5"), Decimal("18"), Decimal("5.5")),
               Line("Livraison hors taxe", Decimal("1"), Decimal("15"), Decimal("0"))))
    raw = cii_invoice(entry)
    analysis = analyse(raw, "IN_DP_E1_CII_16B", br_fr=BrFrMode.FATAL)
    assert analysis.accepted, analysis.errors
    assert [(f.rule, f.message) for f in analysis.findings] == []
    facts = analysis.facts
    assert (facts.number, facts.issue_date, facts.service_code, facts.engagement) == (
        "F-2026-001", TODAY, "COMPTA", "EJ-77")
    assert (facts.supplier_name, facts.total_without_tax, facts.tax_total,
            facts.total_with_tax) == ("Fournitures Martin & Fils", Decimal("103.35"),
                                      Decimal("11.15"), Decimal("114.50"))


def test_an_entry_without_service_code_nor_engagement_is_still_a_valid_document():
    entry = InvoiceEntry(number="1", issue_date=TODAY, due_date=TODAY, seller=SELLER,
                         buyer=BUYER, lines=(Line("x", Decimal("1"), Decimal("0"),
                                                  Decimal("20")),))
    analysis = analyse(cii_invoice(entry), br_fr=BrFrMode.FATAL)
    assert analysis.accepted and not analysis.findings, (analysis.errors, analysis.findings)
    assert (analysis.facts.service_code, analysis.facts.engagement) == (None, None)


def test_the_validator_would_see_a_wrong_total():
    """The check above can fail: the same document with a total that does not add up is
    refused by EN 16931's BR-CO-15."""
    entry = InvoiceEntry(number="1", issue_date=TODAY, due_date=TODAY, seller=SELLER,
                         buyer=BUYER, lines=(Line("x", Decimal("1"), Decimal("10"),
                                                  Decimal("20")),))
    raw = cii_invoice(entry).replace(b"<ram:GrandTotalAmount>12.00",
                                     b"<ram:GrandTotalAmount>12.01")
    analysis = analyse(raw, br_fr=BrFrMode.FATAL)
    assert "BR-CO-15" in {f.rule for f in analysis.findings}
