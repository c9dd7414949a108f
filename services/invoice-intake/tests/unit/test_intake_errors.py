from __future__ import annotations

import re
import string

import pytest

from chorale_intake.domain.errors import (
    CATALOGUE,
    MAX_DETAIL_CHARS,
    MAX_VALUE_CHARS,
    ErrorLevel,
    IntakeRejected,
    RuleCode,
    level_of,
    rule_error,
)
from chorale_intake.domain.rules import check_invoice

DESIGN_CODES = """EMPTY_FILE FILE_TOO_LARGE XML_MALFORMED XML_FORBIDDEN_DTD SYNTAX_UNKNOWN
SYNTAX_MISMATCH XSD_INVALID PDF_INVALID PDF_TRUNCATED PDF_ENCRYPTED PDF_TOO_COMPLEX
FACTURX_NO_INVOICE FACTURX_AMBIGUOUS FACTURX_PROFILE_MISMATCH FACTURX_PROFILE_NOT_INVOICE
SUPPLIER_NOT_PARTNER RECIPIENT_MISSING RECIPIENT_UNKNOWN
RECIPIENT_INACTIVE RECIPIENT_NOT_PUBLIC SERVICE_CODE_REQUIRED SERVICE_UNKNOWN SERVICE_INACTIVE
SERVICE_RESERVED ENGAGEMENT_REQUIRED SERVICE_OR_ENGAGEMENT_REQUIRED ENGAGEMENT_TOO_LONG
ISSUE_DATE_IN_FUTURE DUPLICATE_INVOICE BUSINESS_RULE""".split()
FLOW_CODES = DESIGN_CODES[:15]
FRENCH_WORDS = {
    "le",
    "la",
    "les",
    "de",
    "du",
    "des",
    "est",
    "une",
    "ne",
    "pas",
    "au",
    "n",
    "d",
    "l",
}


def test_every_design_code_and_nothing_else():
    assert [c.value for c in RuleCode] == DESIGN_CODES
    assert set(CATALOGUE) == set(RuleCode)


@pytest.mark.parametrize("code", list(RuleCode))
def test_levels(code):
    expected = ErrorLevel.FLOW if code.value in FLOW_CODES else ErrorLevel.INVOICE
    assert level_of(code) is expected
    assert expected.value in ("FLUX", "FACTURE")  # the values of the flows contract


@pytest.mark.parametrize("code", list(RuleCode))
def test_messages_are_french_and_fully_templated(code):
    fields = {name for _, name, _, _ in string.Formatter().parse(CATALOGUE[code][1]) if name}
    error = rule_error(
        code, line=3, path="/Invoice/cbc:ID", value="v", **dict.fromkeys(fields, "X")
    )
    assert error.code is code and (error.line, error.path, error.value) == (
        3,
        "/Invoice/cbc:ID",
        "v",
    )
    assert "{" not in error.message and error.message[0].isupper()
    words = set(re.findall(r"[a-zàâçéèêëîïôûùüÿœ]+", error.message.lower()))
    assert words & FRENCH_WORDS, error.message


def test_a_missing_template_value_is_a_programming_error():
    with pytest.raises(KeyError):
        rule_error(RuleCode.FILE_TOO_LARGE, size=1)


def test_rejection_carries_its_errors():
    first = rule_error(RuleCode.EMPTY_FILE)
    rejected = IntakeRejected(first)
    assert rejected.error is first and rejected.errors == (first,)
    assert "EMPTY_FILE" in str(rejected)
    with pytest.raises(ValueError):
        IntakeRejected()


def test_untrusted_values_are_clipped():
    huge = "E" * 100_000
    error = rule_error(RuleCode.ENGAGEMENT_TOO_LONG, value=huge, limit=50, length=len(huge))
    assert len(error.value) == MAX_VALUE_CHARS and error.value.endswith("…")
    detail = rule_error(RuleCode.XSD_INVALID, schema="UBL 2.1 Invoice", detail="x" * 50_000)
    assert len(detail.message) < MAX_DETAIL_CHARS + 100


def test_a_huge_engagement_gives_a_small_error(kit):
    facts = kit.facts_of(kit.make(kit.UBL, engagement="EJ" * 20_000))
    [error] = check_invoice(
        facts,
        partner_identifier=kit.SUPPLIER,
        recipient=kit.recipient(),
        today=kit.TODAY,
        is_duplicate=False,
    )
    assert error.code is RuleCode.ENGAGEMENT_TOO_LONG
    assert "40000 caractères" in error.message
    assert len(error.model_dump_json()) < 1000
