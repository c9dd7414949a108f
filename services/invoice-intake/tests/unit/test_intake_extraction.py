from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.errors import RuleCode
from chorale_intake.domain.extraction import DocumentKind
from chorale_intake.domain.syntax import RootKind, Syntax
from chorale_testkit.invoices import invoice_amounts

UBL_CUSTOMER_ID = "<cac:PartyIdentification>\n                <cbc:ID>10202</cbc:ID>"


def test_cen_ubl_example(kit):
    facts = kit.facts_of(kit.data("ubl-tc434-example1.xml"))
    assert facts.syntax is Syntax.IN_DP_E1_UBL_INVOICE
    assert facts.root is RootKind.UBL_INVOICE
    assert facts.document_kind is DocumentKind.INVOICE
    assert (facts.number, facts.issue_date, facts.type_code) == (
        "12115118",
        date(2015, 1, 9),
        "380",
    )
    assert facts.currency == "EUR"
    assert (facts.buyer_identifier, facts.buyer_scheme, facts.buyer_name) == (
        "10202",
        None,
        "ODIN 59",
    )
    # The supplier has no PartyIdentification in this example.
    assert (facts.supplier_identifier, facts.supplier_name) == (None, "De Koksmaat")
    assert (facts.service_code, facts.engagement) == (None, None)
    assert facts.total_without_tax == Decimal("229.60")
    assert facts.tax_total == Decimal("20.73")
    assert facts.total_with_tax == Decimal("250.33")
    assert facts.amount_due == Decimal("250.33")


def test_cen_ubl_credit_note(kit):
    facts = kit.facts_of(kit.data("ubl-tc434-creditnote1.xml"))
    assert facts.document_kind is DocumentKind.CREDIT_NOTE
    assert facts.root is RootKind.UBL_CREDIT_NOTE
    assert facts.type_code == "381"
    assert facts.number == "018304 / 28865"
    assert facts.service_code == "018304 / 28865"  # its BuyerReference


def test_cen_cii_example(kit):
    facts = kit.facts_of(kit.data("CII_example1.xml"))
    assert facts.syntax is Syntax.IN_DP_E1_CII_16B
    assert (facts.number, facts.issue_date, facts.type_code) == (
        "12115118",
        date(2015, 1, 9),
        "380",
    )
    assert facts.buyer_identifier is None  # BuyerTradeParty has no SpecifiedLegalOrganization
    assert (facts.supplier_identifier, facts.supplier_name) == ("57151520", "De Koksmaat")
    assert facts.buyer_name == "ODIN 59"
    assert facts.total_without_tax == Decimal("229.6")
    assert facts.tax_total == Decimal("20.73")
    assert facts.total_with_tax == Decimal("250.33")


def test_chorus_fields_where_the_design_table_puts_them(kit, syntax):
    raw = kit.make(syntax, service_code="SERV-COMPTA", engagement="EJ-2024-000123", lines=5)
    facts = kit.facts_of(raw)
    assert (facts.buyer_identifier, facts.buyer_scheme) == (kit.BUYER, "0009")
    assert (facts.supplier_identifier, facts.supplier_scheme) == (kit.SUPPLIER, "0009")
    assert (facts.service_code, facts.engagement) == ("SERV-COMPTA", "EJ-2024-000123")
    assert (facts.number, facts.issue_date) == ("FA-2024-0042", date(2024, 6, 3))


def test_ubl_service_code_falls_back_to_the_buyer_contact(kit):
    raw = kit.patch(
        kit.data("ubl-tc434-example1.xml"),
        (
            "<cac:Contact>\n                <cbc:Name>",
            "<cac:Contact><cbc:ID>SERV-CONTACT</cbc:ID>\n<cbc:Name>",
        ),
    )
    assert kit.facts_of(raw).service_code == "SERV-CONTACT"
    with_reference = kit.patch(
        raw,
        (
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>"
            "<cbc:BuyerReference>SERV-BT10</cbc:BuyerReference>",
        ),
    )
    assert kit.facts_of(with_reference).service_code == "SERV-BT10"


def test_identifier_with_a_siret_scheme_is_preferred(kit):
    raw = kit.patch(
        kit.data("ubl-tc434-example1.xml"),
        (
            UBL_CUSTOMER_ID,
            '<cac:PartyIdentification><cbc:ID schemeID="0088">5412345000013</cbc:ID>'
            "</cac:PartyIdentification><cac:PartyIdentification>"
            f'<cbc:ID schemeName="1">  {kit.BUYER}\n</cbc:ID>',
        ),
    )
    facts = kit.facts_of(raw)
    assert (facts.buyer_identifier, facts.buyer_scheme) == (kit.BUYER, "1")


def test_blank_values_are_none_and_text_is_stripped(kit, syntax):
    raw = kit.make(syntax, service_code="  SERV-COMPTA \n", engagement=" ")
    facts = kit.facts_of(raw)
    assert facts.service_code == "SERV-COMPTA"
    assert facts.engagement is None


def test_tax_total_in_the_document_currency(kit):
    raw = kit.make(kit.UBL)
    raw = raw.replace(
        b"<cac:TaxTotal>",
        b'<cac:TaxTotal><cbc:TaxAmount currencyID="USD">999.99</cbc:TaxAmount></cac:TaxTotal>'
        b"<cac:TaxTotal>",
        1,
    )
    expected = invoice_amounts(3, "100.00", "20.00").tax_total
    assert expected == Decimal("122.00")
    assert kit.facts_of(raw).tax_total == expected


def test_cii_issue_date_as_xsd_datetime(kit):
    raw = kit.make(kit.CII).replace(
        b'<udt:DateTimeString format="102">20240603</udt:DateTimeString>',
        b"<udt:DateTime>2024-06-03T10:30:00</udt:DateTime>",
        1,
    )
    assert kit.facts_of(raw).issue_date == date(2024, 6, 3)


def test_cii_credit_note_by_type_code(kit):
    facts = kit.facts_of(kit.make(kit.CII, credit_note=True))
    assert (facts.document_kind, facts.type_code) == (DocumentKind.CREDIT_NOTE, "381")


@pytest.mark.parametrize(
    ("written", "fmt"),
    [("20241345", "102"), ("202406", "610"), ("3 juin 2024", "102"), ("", "102")],
)
def test_unreadable_cii_issue_date_rejects_the_flow(kit, written, fmt):
    raw = kit.make(kit.CII).replace(
        b'<udt:DateTimeString format="102">20240603</udt:DateTimeString>',
        f'<udt:DateTimeString format="{fmt}">{written}</udt:DateTimeString>'.encode(),
        1,
    )
    analysis = analyse(raw)
    assert not analysis.accepted and analysis.facts is None
    [error] = analysis.errors
    assert error.code is RuleCode.XSD_INVALID
    assert (
        error.path
        == "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"
    )
    assert "AAAAMMJJ" in error.message


def test_blank_invoice_number_rejects_the_flow(kit, syntax):
    analysis = analyse(kit.make(syntax, number=" "))
    [error] = analysis.errors
    assert error.code is RuleCode.XSD_INVALID
    assert "numéro de facture" in error.message
