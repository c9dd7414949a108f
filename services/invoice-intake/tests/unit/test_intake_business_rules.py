"""Business rules: SVRL → findings (pure), the BR-FR policy (pure), and the analysis running the
official EN 16931 and BR-FR schematrons (Saxon) after the XSD."""

from __future__ import annotations

import re

import pytest

from chorale_contracts.events.common import FlowStatus
from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.business_rules import (
    BrFrMode,
    Finding,
    RuleSet,
    apply_policy,
    parse_svrl,
    shorten_location,
    to_errors,
)
from chorale_intake.domain.errors import ErrorLevel, RuleCode
from chorale_intake.domain.outcome import judge
from chorale_intake.domain.xsd import PREFIXES

SVRL = """<?xml version="1.0" encoding="UTF-8"?>
<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <svrl:active-pattern id="p"/>
  <svrl:fired-rule context="/ubl:Invoice"/>
  <svrl:failed-assert test="x" id="BR-CO-15" flag="fatal"
      location="/*:Invoice[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'][1]/*:LegalMonetaryTotal[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'][1]">
    <svrl:text>[BR-CO-15]-Invoice total amount with VAT (BT-112)
       = Invoice total amount without VAT (BT-109) + Invoice total VAT amount (BT-110).</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="y" id="BR-FR-05_BT-22_PMT" flag="warning" location="/x:Y[1]">
    <svrl:text>La mention PMT est absente.</svrl:text>
  </svrl:failed-assert>
  <svrl:successful-report test="z" id="R-1" location="/">
    <svrl:text>reported</svrl:text>
  </svrl:successful-report>
</svrl:schematron-output>"""


def test_svrl_failed_asserts_and_reports_become_findings():
    findings = parse_svrl(SVRL, RuleSet.EN16931, prefixes=PREFIXES)
    assert [(f.rule, f.flag) for f in findings] == [
        ("BR-CO-15", "fatal"), ("BR-FR-05_BT-22_PMT", "warning"), ("R-1", "fatal")]
    first = findings[0]
    assert first.location == "/Invoice[1]/cac:LegalMonetaryTotal[1]"
    assert first.text.startswith("[BR-CO-15]-Invoice total amount with VAT (BT-112) = Invoice")
    assert "\n" not in first.text and first.ruleset is RuleSet.EN16931
    assert findings[1].location == "/x:Y[1]"  # not a namespace step: left as written


def test_svrl_without_findings_is_empty():
    report = SVRL.split("<svrl:failed-assert")[0] + "</svrl:schematron-output>"
    assert parse_svrl(report, RuleSet.BR_FR) == []
    assert parse_svrl(report.encode(), RuleSet.BR_FR) == []


def test_unknown_namespaces_stay_in_locations():
    location = "/*:A[namespace-uri()='urn:other'][1]"
    assert shorten_location(location, PREFIXES) == location


def _finding(rule: str, flag: str, ruleset: RuleSet) -> Finding:
    return Finding(rule=rule, flag=flag, location="/Invoice[1]", text="t", ruleset=ruleset)


FINDINGS = [
    _finding("BR-CO-10", "fatal", RuleSet.EN16931),
    _finding("BR-FR-08_BT-23", "fatal", RuleSet.BR_FR),
    _finding("BR-FR-W", "warning", RuleSet.BR_FR),
    _finding("BR-52", "warning", RuleSet.EN16931),
]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (BrFrMode.OFF, [("BR-CO-10", "fatal"), ("BR-52", "warning")]),
        (BrFrMode.WARNING, [("BR-CO-10", "fatal"), ("BR-FR-08_BT-23", "warning"),
                            ("BR-FR-W", "warning"), ("BR-52", "warning")]),
        (BrFrMode.FATAL, [("BR-CO-10", "fatal"), ("BR-FR-08_BT-23", "fatal"),
                          ("BR-FR-W", "warning"), ("BR-52", "warning")]),
    ],
)
def test_br_fr_policy(mode, expected):
    assert [(f.rule, f.flag) for f in apply_policy(FINDINGS, mode)] == expected


def test_each_finding_is_one_invoice_level_business_rule_error():
    errors = to_errors(FINDINGS[:2])
    assert [(e.code, e.level, e.rule, e.flag, e.path) for e in errors] == [
        (RuleCode.BUSINESS_RULE, ErrorLevel.INVOICE, "BR-CO-10", "fatal", "/Invoice[1]"),
        (RuleCode.BUSINESS_RULE, ErrorLevel.INVOICE, "BR-FR-08_BT-23", "fatal", "/Invoice[1]"),
    ]
    assert errors[0].message == "La règle EN16931 BR-CO-10 n'est pas respectée (bloquante) : t"


# -- the analysis, with the real stylesheets -----------------------------------------------

def _wrong_total(kit, syntax: str) -> bytes:
    """A sample whose total with VAT is not total without VAT + VAT (BR-CO-15)."""
    tag = "cbc:TaxInclusiveAmount" if syntax == kit.UBL else "ram:GrandTotalAmount"
    return re.sub(rf"(<{tag}[^>]*>)[0-9.]+<".encode(), rb"\g<1>999.99<", kit.make(syntax))


@pytest.mark.parametrize("mode", list(BrFrMode))
def test_samples_break_no_rule(kit, syntax, mode):
    analysis = analyse(kit.make(syntax), br_fr=mode)
    assert analysis.accepted and analysis.findings == (), [f.message for f in analysis.findings]


def test_a_fatal_en16931_finding_rejects_the_invoice_with_the_recipient_errors(kit, syntax):
    analysis = analyse(_wrong_total(kit, syntax))
    assert analysis.accepted  # flow level: the invoice is read, its rules are reported
    rules = {f.rule for f in analysis.findings}
    assert "BR-CO-15" in rules
    verdict = judge(analysis, partner=kit.SUPPLIER, recipient=None, partner_is_public=False,
                    today=kit.TODAY, is_duplicate=False)
    assert verdict.status is FlowStatus.IN_REJETE
    codes = [e.code.value for e in verdict.errors]
    assert codes[0] == "RECIPIENT_UNKNOWN"  # recipient rules first, then the business rules
    assert "BUSINESS_RULE" in codes and verdict.warnings == ()
    error = next(e for e in verdict.errors if e.rule == "BR-CO-15")
    assert error.flag == "fatal" and error.level is ErrorLevel.INVOICE and error.path


def test_xsd_errors_come_first_and_stop_before_the_business_rules(kit):
    raw = kit.patch(_wrong_total(kit, kit.UBL), ("<cbc:IssueDate>", "<cbc:Issued>"),
                    ("</cbc:IssueDate>", "</cbc:Issued>"))
    analysis = analyse(raw)
    assert {e.code for e in analysis.errors} == {RuleCode.XSD_INVALID}
    assert analysis.findings == ()


def _without_mentions(kit, syntax: str) -> bytes:
    """A sample without the billing mode BT-23 (BR-FR-08)."""
    if syntax == kit.UBL:
        return kit.patch(kit.make(syntax), ("<cbc:ProfileID>B1</cbc:ProfileID>", ""))
    return kit.patch(kit.make(syntax), ("<ram:ID>B1</ram:ID>", "<ram:ID>ZZ</ram:ID>"))


@pytest.mark.parametrize(
    ("mode", "flags", "status"),
    [(BrFrMode.OFF, set(), FlowStatus.IN_INTEGRE),
     (BrFrMode.WARNING, {"warning"}, FlowStatus.IN_INTEGRE),
     (BrFrMode.FATAL, {"fatal"}, FlowStatus.IN_REJETE)],
)
def test_br_fr_mode_decides(kit, syntax, mode, flags, status):
    analysis = analyse(_without_mentions(kit, syntax), br_fr=mode)
    found = {f.flag for f in analysis.findings if (f.rule or "").startswith("BR-FR-08")}
    assert found == flags
    verdict = judge(analysis, partner=kit.SUPPLIER, recipient=kit.recipient(),
                    partner_is_public=False, today=kit.TODAY, is_duplicate=False)
    assert verdict.status is status
    if mode is BrFrMode.WARNING:
        assert {w.rule for w in verdict.warnings} >= {"BR-FR-08_BT-23"}


def test_a_cen_example_breaks_no_fatal_en16931_rule(kit):
    analysis = analyse(kit.data("CII_example1.xml"), br_fr=BrFrMode.OFF)
    assert [f.rule for f in analysis.findings if f.flag == "fatal"] == []
