from __future__ import annotations

import pytest

from chorale_intake.domain.errors import IntakeRejected, RuleCode
from chorale_intake.domain.syntax import RootKind, Syntax, detect_root, resolve_syntax
from chorale_intake.domain.xml_safety import parse_safely


def test_syntax_values_are_the_chorus_pro_names():
    assert {s.value for s in Syntax} == {"IN_DP_E1_UBL_INVOICE", "IN_DP_E1_CII_16B",
                                         "IN_DP_E2_CII_FACTURX"}


@pytest.mark.parametrize(
    ("name", "kind", "syntax"),
    [
        ("ubl-tc434-example1.xml", RootKind.UBL_INVOICE, Syntax.IN_DP_E1_UBL_INVOICE),
        ("ubl-tc434-creditnote1.xml", RootKind.UBL_CREDIT_NOTE, Syntax.IN_DP_E1_UBL_INVOICE),
        ("CII_example1.xml", RootKind.CII_INVOICE, Syntax.IN_DP_E1_CII_16B),
    ],
)
def test_detected_from_the_root_element(kit, name, kind, syntax):
    root = parse_safely(kit.data(name))
    assert detect_root(root) is kind
    assert resolve_syntax(root, None) is syntax
    assert resolve_syntax(root, syntax.value) is syntax


@pytest.mark.parametrize(
    "declared", [None, "", "   ", "in_dp_e1_ubl_invoice", " IN_DP_E1_UBL_INVOICE "]
)
def test_missing_or_loosely_written_declaration_is_accepted(kit, declared):
    assert resolve_syntax(parse_safely(kit.make(kit.UBL)), declared) is Syntax.IN_DP_E1_UBL_INVOICE


@pytest.mark.parametrize(
    "raw",
    [
        b"<Invoice/>",  # right name, no namespace
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"/>',
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>',
        b'<CrossIndustryInvoice xmlns="urn:ferd:CrossIndustryDocument:invoice:1p0"/>',
        b"<html><body>facture</body></html>",
    ],
    ids=["no-namespace", "wrong-namespace", "ubl-order", "zugferd-1", "html"],
)
def test_unknown_root_is_syntax_unknown(raw):
    root = parse_safely(raw)
    assert detect_root(root) is None
    with pytest.raises(IntakeRejected) as info:
        resolve_syntax(root, None)
    error = info.value.error
    assert error.code is RuleCode.SYNTAX_UNKNOWN
    assert error.line == 1
    assert error.value is not None and error.value in error.message


@pytest.mark.parametrize("declared", ["PDF", "IN_DP_E2_UBL_INVOICE_MIN", "UBL"])
def test_unknown_declared_syntax_is_syntax_unknown(kit, declared):
    with pytest.raises(IntakeRejected) as info:
        resolve_syntax(parse_safely(kit.make(kit.UBL)), declared)
    assert info.value.error.code is RuleCode.SYNTAX_UNKNOWN
    assert info.value.error.value == declared


@pytest.mark.parametrize(
    ("content", "declared"),
    [("IN_DP_E1_UBL_INVOICE", "IN_DP_E1_CII_16B"), ("IN_DP_E1_CII_16B", "IN_DP_E1_UBL_INVOICE")],
)
def test_declared_syntax_differing_from_the_content_is_a_mismatch(kit, content, declared):
    with pytest.raises(IntakeRejected) as info:
        resolve_syntax(parse_safely(kit.make(content)), declared)
    error = info.value.error
    assert error.code is RuleCode.SYNTAX_MISMATCH
    assert declared in error.message and content in error.message
