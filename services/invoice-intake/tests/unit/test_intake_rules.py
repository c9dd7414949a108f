"""Invoice-level rules, each with a rejecting and an accepting case, on real XML files."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chorale_intake.domain.errors import ErrorLevel, RuleCode
from chorale_intake.domain.rules import ENGAGEMENT_MAX_LENGTH, check_invoice, duplicate_key


def test_a_regular_invoice_is_accepted(kit, check, syntax):
    assert check(kit.make(syntax, service_code="SERV-COMPTA", engagement="EJ-1")) == []


# --- supplier ----------------------------------------------------------------------------


def test_supplier_must_be_the_partner(kit, check, syntax):
    raw = kit.make(syntax, supplier_siret=kit.OTHER_SUPPLIER)
    assert check(raw) == ["SUPPLIER_NOT_PARTNER"]
    assert check(raw, partner_identifier=kit.OTHER_SUPPLIER) == []


def test_supplier_comparison_ignores_blanks(kit, check):
    spaced = " ".join([kit.SUPPLIER[:3], kit.SUPPLIER[3:6], kit.SUPPLIER[6:9], kit.SUPPLIER[9:]])
    assert check(kit.make(kit.UBL, supplier_siret=spaced)) == []


def test_missing_supplier_is_not_the_partner(kit, check):
    # CEN example 1 has no supplier PartyIdentification.
    raw = kit.patch(
        kit.data("ubl-tc434-example1.xml"),
        ("<cbc:ID>10202</cbc:ID>", f'<cbc:ID schemeID="0009">{kit.BUYER}</cbc:ID>'),
    )
    facts = kit.facts_of(raw)
    [error] = check_invoice(
        facts,
        partner_identifier=kit.SUPPLIER,
        recipient=kit.recipient(),
        today=kit.TODAY,
        is_duplicate=False,
    )
    assert error.code is RuleCode.SUPPLIER_NOT_PARTNER
    assert error.level is ErrorLevel.INVOICE
    assert "non renseigné" in error.message and kit.SUPPLIER in error.message
    assert (
        error.path
        == "/Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID"
    )


# --- recipient ---------------------------------------------------------------------------


def test_recipient_missing(kit, check):
    # CEN CII example 1: the buyer has no SpecifiedLegalOrganization/ID.
    raw = kit.patch(
        kit.data("CII_example1.xml"),
        ("<ram:ID>57151520</ram:ID>", f'<ram:ID schemeID="0009">{kit.SUPPLIER}</ram:ID>'),
    )
    assert check(raw) == ["RECIPIENT_MISSING"]
    with_buyer = kit.patch(
        raw,
        (
            "<ram:Name>ODIN 59</ram:Name>",
            "<ram:Name>ODIN 59</ram:Name><ram:SpecifiedLegalOrganization>"
            f'<ram:ID schemeID="0009">{kit.BUYER}</ram:ID></ram:SpecifiedLegalOrganization>',
        ),
    )
    assert check(with_buyer) == []


def test_recipient_unknown(kit, check, syntax):
    raw = kit.make(syntax)
    assert check(raw, recipient=None) == ["RECIPIENT_UNKNOWN"]
    assert check(raw, recipient=kit.recipient()) == []


def test_recipient_inactive(kit, check, syntax):
    raw = kit.make(syntax)
    assert check(raw, recipient=kit.recipient(statut="INACTIVE")) == ["RECIPIENT_INACTIVE"]
    assert check(raw, recipient=kit.recipient(statut="ACTIVE")) == []


def test_recipient_not_public(kit, check, syntax):
    raw = kit.make(syntax)
    assert check(raw, recipient=kit.recipient(typeStructure="PRIVEE")) == ["RECIPIENT_NOT_PUBLIC"]
    assert check(raw, recipient=kit.recipient(typeStructure="PUBLIQUE")) == []


# --- service code ------------------------------------------------------------------------


def test_service_code_required_by_the_structure(kit, check, syntax):
    required = kit.recipient(codeServiceDoitEtreRenseigne=True)
    assert check(kit.make(syntax), recipient=required) == ["SERVICE_CODE_REQUIRED"]
    assert check(kit.make(syntax, service_code="SERV-COMPTA"), recipient=required) == []
    assert check(kit.make(syntax), recipient=kit.recipient()) == []


def test_unknown_service_code_is_always_checked(kit, check, syntax):
    raw = kit.make(syntax, service_code="SERV-INCONNU")
    # Even when the structure does not require a service code.
    assert check(raw, recipient=kit.recipient()) == ["SERVICE_UNKNOWN"]
    assert check(kit.make(syntax, service_code="SERV-COMPTA")) == []


def test_service_codes_are_per_structure(kit, check):
    other = kit.recipient(identifiant=kit.OTHER_BUYER, services=[])
    raw = kit.make(kit.UBL, buyer_siret=kit.OTHER_BUYER, service_code="SERV-COMPTA")
    assert check(raw, recipient=other) == ["SERVICE_UNKNOWN"]


def test_service_inactive_by_status(kit, check, syntax):
    assert check(kit.make(syntax, service_code="SERV-FERME")) == ["SERVICE_INACTIVE"]


@pytest.mark.parametrize(
    ("issued", "codes"),
    [
        (date(2023, 12, 31), ["SERVICE_INACTIVE"]),  # before dateDebutActivation
        (date(2024, 1, 1), []),  # first day
        (date(2024, 12, 31), []),  # last day
        (date(2025, 1, 1), ["SERVICE_INACTIVE"]),  # after dateFinActivation
    ],
)
def test_service_inactive_outside_its_activation_dates(kit, check, syntax, issued, codes):
    raw = kit.make(syntax, service_code="SERV-TRAVAUX", engagement="EJ-1", issue_date=issued)
    assert check(raw, today=date(2025, 6, 1)) == codes


def test_inactive_message_explains_the_period(kit):
    facts = kit.facts_of(
        kit.make(kit.UBL, service_code="SERV-TRAVAUX", engagement="E", issue_date=date(2023, 5, 2))
    )
    [error] = check_invoice(
        facts,
        partner_identifier=kit.SUPPLIER,
        recipient=kit.recipient(),
        today=kit.TODAY,
        is_duplicate=False,
    )
    assert "2023-05-02" in error.message and "du 2024-01-01 au 2024-12-31" in error.message
    assert error.value == "SERV-TRAVAUX"
    assert error.path == "/Invoice/cbc:BuyerReference"


def test_reserved_service_for_public_suppliers_only(kit, check, syntax):
    raw = kit.make(syntax, service_code="FACTURES_PUBLIQUES")
    assert check(raw) == ["SERVICE_RESERVED"]  # partner_is_public defaults to False
    assert check(raw, partner_is_public=False) == ["SERVICE_RESERVED"]
    assert check(raw, partner_is_public=True) == []


def test_reserved_service_listed_in_the_snapshot_is_checked_like_any_other(kit, check):
    services = [
        {
            "codeService": "FACTURES_PUBLIQUES",
            "statut": "INACTIF",
            "dateDebutActivation": "2020-01-01",
        }
    ]
    raw = kit.make(kit.CII, service_code="FACTURES_PUBLIQUES")
    assert check(raw, recipient=kit.recipient(services=services), partner_is_public=True) == [
        "SERVICE_INACTIVE"
    ]


# --- engagement --------------------------------------------------------------------------


def test_engagement_required_by_the_structure(kit, check, syntax):
    required = kit.recipient(numeroEJDoitEtreRenseigne=True)
    assert check(kit.make(syntax), recipient=required) == ["ENGAGEMENT_REQUIRED"]
    assert check(kit.make(syntax, engagement="EJ-2024-7"), recipient=required) == []


def test_engagement_required_by_the_service(kit, check, syntax):
    raw = kit.make(syntax, service_code="SERV-TRAVAUX")
    facts = kit.facts_of(raw)
    [error] = check_invoice(
        facts,
        partner_identifier=kit.SUPPLIER,
        recipient=kit.recipient(),
        today=kit.TODAY,
        is_duplicate=False,
    )
    assert error.code is RuleCode.ENGAGEMENT_REQUIRED
    assert "SERV-TRAVAUX" in error.message
    assert check(kit.make(syntax, service_code="SERV-TRAVAUX", engagement="EJ-9")) == []
    # Another service of the same structure does not require it.
    assert check(kit.make(syntax, service_code="SERV-COMPTA")) == []


def test_service_or_engagement_required(kit, check, syntax):
    one_of = kit.recipient(gestionNumeroEJOuCodeService=True)
    assert check(kit.make(syntax), recipient=one_of) == ["SERVICE_OR_ENGAGEMENT_REQUIRED"]
    assert check(kit.make(syntax, service_code="SERV-COMPTA"), recipient=one_of) == []
    assert check(kit.make(syntax, engagement="EJ-1"), recipient=one_of) == []


def test_one_of_rule_is_not_repeated_when_a_stricter_rule_already_fails(kit, check):
    strict = kit.recipient(codeServiceDoitEtreRenseigne=True, gestionNumeroEJOuCodeService=True)
    assert check(kit.make(kit.UBL), recipient=strict) == ["SERVICE_CODE_REQUIRED"]


def test_engagement_too_long(kit, check, syntax):
    limit = ENGAGEMENT_MAX_LENGTH
    assert limit == 50
    assert check(kit.make(syntax, engagement="E" * (limit + 1))) == ["ENGAGEMENT_TOO_LONG"]
    assert check(kit.make(syntax, engagement="E" * limit)) == []


# --- dates and duplicates ----------------------------------------------------------------


def test_issue_date_in_future(kit, check, syntax):
    raw = kit.make(syntax, issue_date=kit.TODAY + timedelta(days=1))
    assert check(raw) == ["ISSUE_DATE_IN_FUTURE"]
    assert check(kit.make(syntax, issue_date=kit.TODAY)) == []


def test_duplicate_invoice(kit, check, syntax):
    raw = kit.make(syntax)
    assert check(raw, is_duplicate=True) == ["DUPLICATE_INVOICE"]
    assert check(raw, is_duplicate=False) == []


def test_duplicate_key_is_supplier_year_and_number(kit):
    ubl = kit.facts_of(kit.make(kit.UBL, number="FA-2024-0042"))
    cii = kit.facts_of(kit.make(kit.CII, number="  fa-2024-0042 "))
    assert duplicate_key(ubl) == f"{kit.SUPPLIER}|2024|FA-2024-0042"
    assert duplicate_key(cii) == duplicate_key(ubl)  # same invoice, whatever the syntax
    next_year = kit.facts_of(kit.make(kit.UBL, number="FA-2024-0042", issue_date=date(2025, 1, 2)))
    other_supplier = kit.facts_of(kit.make(kit.UBL, supplier_siret=kit.OTHER_SUPPLIER))
    assert len({duplicate_key(ubl), duplicate_key(next_year), duplicate_key(other_supplier)}) == 3


def test_duplicate_key_separator_cannot_be_forged(kit):
    a = kit.facts_of(kit.make(kit.UBL, supplier_siret="A|2024", number="X"))
    b = kit.facts_of(kit.make(kit.UBL, supplier_siret="A", number="2024|X"))
    assert duplicate_key(a) != duplicate_key(b)


# --- all together ------------------------------------------------------------------------


def test_every_applicable_error_in_a_stable_order(kit, check, syntax):
    raw = kit.make(
        syntax,
        supplier_siret=kit.OTHER_SUPPLIER,
        service_code="FACTURES_PUBLIQUES",
        engagement="E" * 60,
        issue_date=kit.TODAY + timedelta(days=3),
    )
    entry = kit.recipient(statut="INACTIVE", typeStructure="PRIVEE")
    expected = [
        "SUPPLIER_NOT_PARTNER",
        "RECIPIENT_INACTIVE",
        "RECIPIENT_NOT_PUBLIC",
        "SERVICE_UNKNOWN",  # a private structure has no reserved service
        "SERVICE_RESERVED",
        "ENGAGEMENT_TOO_LONG",
        "ISSUE_DATE_IN_FUTURE",
        "DUPLICATE_INVOICE",
    ]
    assert check(raw, recipient=entry, is_duplicate=True) == expected
    assert check(raw, recipient=entry, is_duplicate=True) == expected


def test_errors_name_the_offending_value_and_location(kit):
    facts = kit.facts_of(kit.make(kit.CII, service_code="SERV-INCONNU"))
    [error] = check_invoice(
        facts,
        partner_identifier=kit.SUPPLIER,
        recipient=kit.recipient(),
        today=kit.TODAY,
        is_duplicate=False,
    )
    assert error.value == "SERV-INCONNU"
    assert error.path == (
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/"
        "ram:ApplicableHeaderTradeAgreement/ram:BuyerReference"
    )
    assert error.message == (
        f"Le code service « SERV-INCONNU » n'existe pas pour le destinataire {kit.BUYER}."
    )
