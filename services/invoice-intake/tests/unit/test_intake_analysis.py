"""The flow-level pipeline: each flow-level code rejects, and the same file done right passes."""

from __future__ import annotations

import pytest

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.errors import ErrorLevel, RuleCode
from chorale_intake.domain.syntax import Syntax


def codes(analysis) -> list[str]:
    return [e.code.value for e in analysis.errors]


def test_accepted_invoice_has_facts_and_syntax(kit, syntax):
    analysis = analyse(kit.make(syntax), syntax)
    assert analysis.accepted
    assert analysis.syntax is Syntax(syntax)
    assert analysis.facts is not None and analysis.facts.number == "FA-2024-0042"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "EMPTY_FILE"),
        (b" \n ", "EMPTY_FILE"),
        (b"PK\x03\x04\x14\x00\x00\x00", "XML_MALFORMED"),
        (b"<r>", "XML_MALFORMED"),
        (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "XML_FORBIDDEN_DTD"),
        (b"<facture/>", "SYNTAX_UNKNOWN"),
    ],
)
def test_flow_level_rejections(raw, code):
    analysis = analyse(raw)
    assert codes(analysis) == [code]
    assert not analysis.accepted and analysis.facts is None
    assert all(e.level is ErrorLevel.FLOW for e in analysis.errors)


def test_size_limit(kit, syntax):
    raw = kit.make(syntax, lines=40)
    assert codes(analyse(raw, max_bytes=len(raw) - 1)) == ["FILE_TOO_LARGE"]
    assert analyse(raw, max_bytes=len(raw)).accepted


def test_declared_syntax(kit):
    raw = kit.make(kit.CII)
    mismatch = analyse(raw, kit.UBL)
    assert codes(mismatch) == ["SYNTAX_MISMATCH"]
    assert mismatch.syntax is Syntax.IN_DP_E1_CII_16B  # what the file really is
    assert codes(analyse(raw, "FACTURX")) == ["SYNTAX_UNKNOWN"]
    assert analyse(raw, kit.CII).accepted
    assert analyse(raw, None).accepted


def test_xsd_invalid_rejects_the_flow_with_line_and_path(kit):
    raw = kit.make(kit.UBL).replace(b"InvoiceTypeCode>", b"InvoiceTypeKode>")
    analysis = analyse(raw)
    assert codes(analysis) == ["XSD_INVALID"]
    assert analysis.errors[0].line is not None and analysis.errors[0].path is not None
    assert analysis.syntax is Syntax.IN_DP_E1_UBL_INVOICE and analysis.facts is None
    assert analyse(kit.make(kit.UBL)).accepted


def test_max_xsd_errors_is_passed_through(kit):
    raw = kit.make(kit.CII, lines=10).replace(b'unitCode="C62">', b'unitCode="C62">x')
    assert len(analyse(raw, max_xsd_errors=3).errors) == 4


def test_max_depth_is_passed_through(kit):
    raw = kit.make(kit.UBL)
    assert codes(analyse(raw, max_depth=4)) == ["XML_MALFORMED"]
    assert analyse(raw, max_depth=8).accepted


@pytest.mark.parametrize(
    "name", ["ubl-tc434-example1.xml", "ubl-tc434-creditnote1.xml", "CII_example1.xml"]
)
def test_cen_examples_are_accepted_at_flow_level(kit, name):
    analysis = analyse(kit.data(name))
    assert analysis.accepted, analysis.errors
    assert all(e.code is not RuleCode.XSD_INVALID for e in analysis.errors)
