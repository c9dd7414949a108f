"""The CEN EN 16931 unit tests (1,140 cases), through the intake's own business-rule check.

Each case is an invoice fragment (not schema-valid: the CEN tests exercise the rules alone) and
the rules it must fire (`error`: fatal, `warning`) or must not (`success`). The stylesheets are
compiled once per process (`schematron`), so the whole set costs a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from chorale_intake.domain import schematron
from chorale_intake.domain.business_rules import BrFrMode
from chorale_intake.domain.syntax import detect_root

UNIT_TESTS = Path(__file__).parent.parent / "data" / "en16931-unit-tests"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"


def _cases() -> list:
    cases = []
    for path in sorted(UNIT_TESTS.glob("*/*.xml")):
        test_set = etree.parse(str(path)).getroot()
        for index, test in enumerate(test_set.iter(f"{VEFA}test"), start=1):
            expect = test.find(f"{VEFA}assert")
            document = next(child for child in test if isinstance(child.tag, str)
                            and not child.tag.startswith(VEFA))
            expected = {kind: {e.text.strip() for e in expect.iter(f"{VEFA}{kind}")}
                        for kind in ("success", "error", "warning")}
            name = f"{path.parent.name}/{path.stem}#{index}"
            cases.append(pytest.param(document, expected, id=name))
    return cases


CASES = _cases()


def test_every_cen_unit_test_is_here():
    assert len(CASES) == 1140


@pytest.mark.parametrize(("document", "expected"), CASES)
def test_cen_unit_test(document, expected):
    kind = detect_root(document)
    assert kind is not None
    findings = schematron.check(document, schematron.stylesheets_for(kind, BrFrMode.OFF))
    fired = {(f.rule, f.flag) for f in findings}
    rules = {rule for rule, _ in fired}
    assert not expected["success"] & rules, f"should not fire: {expected['success'] & rules}"
    assert {(rule, "fatal") for rule in expected["error"]} <= fired, fired
    assert {(rule, "warning") for rule in expected["warning"]} <= fired, fired
