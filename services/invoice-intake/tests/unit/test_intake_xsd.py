from __future__ import annotations

import threading
from pathlib import Path

import pytest

from chorale_intake.domain import xsd
from chorale_intake.domain.errors import ErrorLevel, RuleCode
from chorale_intake.domain.syntax import RootKind, detect_root, resolve_syntax
from chorale_intake.domain.xml_safety import parse_safely
from chorale_intake.domain.xsd import validate_xsd

# CEN examples that are genuinely invalid against the official XSD, with the reason.
# Checked: every one of the 34 UBL and CII examples validates, so this stays empty.
KNOWN_XSD_INVALID: dict[str, str] = {}
EXPECTED_EXAMPLES = 34  # 19 UBL + 15 CII, vendored from shared/samples/en16931
CEN_EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "cen-examples"


def cen_examples(base: Path = CEN_EXAMPLES) -> list[Path]:
    assert base.is_dir(), f"CEN examples not found at {base}"
    return sorted(
        p for folder in ("ubl-examples", "cii-examples") for p in (base / folder).iterdir()
    )


def test_every_cen_example_passes_parse_syntax_and_xsd(kit):
    files = cen_examples()
    assert len(files) >= EXPECTED_EXAMPLES
    invalid = {}
    for path in files:
        root = parse_safely(path.read_bytes())
        resolve_syntax(root, None)
        errors = validate_xsd(root, detect_root(root))
        if errors:
            invalid[path.name] = errors[0].message
    assert set(invalid) == set(KNOWN_XSD_INVALID), invalid


def test_invalid_values_and_elements_are_reported_with_line_and_path(kit):
    raw = kit.patch(
        kit.data("ubl-tc434-example1.xml"),
        ("<cbc:IssueDate>2015-01-09</cbc:IssueDate>", "<cbc:IssueDate>2015-13-09</cbc:IssueDate>"),
        ("<cbc:DueDate>2015-01-09</cbc:DueDate>", "<cbc:Surprise/>"),
    )
    root = parse_safely(raw)
    errors = validate_xsd(root, RootKind.UBL_INVOICE)
    assert [(e.code, e.level, e.line, e.path) for e in errors] == [
        (RuleCode.XSD_INVALID, ErrorLevel.FLOW, 17, "/*/cbc:IssueDate"),
        (RuleCode.XSD_INVALID, ErrorLevel.FLOW, 18, "/*/cbc:Surprise"),
    ]
    assert "'2015-13-09'" in errors[0].message
    # Namespaces are shown as the usual prefixes, not as {urn:...} noise.
    assert "cbc:Surprise" in errors[1].message and "{urn:" not in errors[1].message
    assert errors[0].message.startswith("Le document n'est pas conforme au schéma UBL 2.1 Invoice")


def test_cii_errors_have_prefixed_paths(kit):
    raw = kit.patch(
        kit.data("CII_example1.xml"),
        ("<ram:TypeCode>380</ram:TypeCode>", "<ram:TypeCodeX>380</ram:TypeCodeX>"),
    )
    [error] = validate_xsd(parse_safely(raw), RootKind.CII_INVOICE)
    assert error.path == "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCodeX"
    assert error.line == 23


def test_a_credit_note_is_validated_against_the_credit_note_schema(kit):
    raw = kit.make(kit.UBL, credit_note=True)
    assert validate_xsd(parse_safely(raw), RootKind.UBL_CREDIT_NOTE) == []
    # The same document is not an Invoice.
    assert validate_xsd(parse_safely(raw), RootKind.UBL_INVOICE) != []


def test_errors_are_capped_with_a_summary(kit):
    raw = kit.make(kit.UBL, lines=60).replace(b'unitCode="C62">', b'unitCode="C62">x')
    errors = validate_xsd(parse_safely(raw), RootKind.UBL_INVOICE, limit=5)
    assert len(errors) == 6
    assert all(e.line for e in errors[:5])
    assert "55 autre(s) erreur(s)" in errors[5].message


def test_each_schema_is_compiled_once(kit):
    validate_xsd(parse_safely(kit.make(kit.CII)), RootKind.CII_INVOICE)
    compiled = xsd._SCHEMAS[RootKind.CII_INVOICE]._schema
    assert compiled is not None
    validate_xsd(parse_safely(kit.make(kit.CII, number="2")), RootKind.CII_INVOICE)
    assert xsd._SCHEMAS[RootKind.CII_INVOICE]._schema is compiled


def test_concurrent_validations_keep_their_own_errors(kit):
    valid = kit.make(kit.UBL)
    invalid = valid.replace(b"<cbc:IssueDate>2024-06-03", b"<cbc:IssueDate>2024-06-31")
    outcomes: list[tuple[bool, int]] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for _ in range(30):
            is_valid = index % 2 == 0
            errors = validate_xsd(
                parse_safely(valid if is_valid else invalid), RootKind.UBL_INVOICE
            )
            with lock:
                outcomes.append((is_valid, len(errors)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 240
    assert {count for is_valid, count in outcomes if is_valid} == {0}
    assert {count for is_valid, count in outcomes if not is_valid} == {1}


@pytest.mark.parametrize("kind", list(RootKind))
def test_schema_files_are_shipped_in_the_package(kind):
    relative, _ = xsd._SCHEMA_FILES[kind]
    base = Path(xsd.__file__).parent.parent / "schemas"
    assert (base / relative).is_file()
    assert (base / "NOTICE.md").is_file()
