"""Empty, oversized, deep, badly encoded and non-XML inputs: the right code, bounded costs."""

from __future__ import annotations

import io
import resource
import time
import zipfile

import pytest
from lxml import etree

from chorale_intake.domain.errors import ErrorLevel, IntakeRejected, RuleCode
from chorale_intake.domain.xml_safety import DEFAULT_MAX_BYTES, parse_safely
from chorale_testkit import hostile_xml as hostile

LAUGHS = hostile.BILLION_LAUGHS


def rejected(raw: bytes, **kwargs: object) -> IntakeRejected:
    with pytest.raises(IntakeRejected) as info:
        parse_safely(raw, **kwargs)  # type: ignore[arg-type]
    assert all(e.level is ErrorLevel.FLOW for e in info.value.errors)
    return info.value


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_valid_invoice_parses(kit):
    root = parse_safely(kit.make())
    assert etree.QName(root).localname == "Invoice"


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n\r\n\t  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_empty_or_blank_files_are_empty(raw):
    assert rejected(raw).error.code is RuleCode.EMPTY_FILE


def test_size_limit_is_a_parameter_and_inclusive(kit):
    raw = kit.make()
    assert parse_safely(raw, max_bytes=len(raw)) is not None
    error = rejected(raw, max_bytes=len(raw) - 1).error
    assert error.code is RuleCode.FILE_TOO_LARGE
    assert error.value == str(len(raw))
    assert f"{len(raw) - 1} octets" in error.message


def test_default_limit_is_10_mib_and_checked_before_parsing():
    assert DEFAULT_MAX_BYTES == 10 * 1024 * 1024
    # Hostile content over the limit: the size decides, the parser never runs.
    raw = LAUGHS + b" " * (DEFAULT_MAX_BYTES + 1 - len(LAUGHS))
    assert len(raw) == DEFAULT_MAX_BYTES + 1
    started = time.perf_counter()
    assert rejected(raw).error.code is RuleCode.FILE_TOO_LARGE
    assert time.perf_counter() - started < 0.5


def test_deep_nesting_is_malformed_in_bounded_time_and_memory():
    raw = b"<a>" * 100_000 + b"</a>" * 100_000
    before = max_rss_mib()
    started = time.perf_counter()
    error = rejected(raw).error
    assert error.code is RuleCode.XML_MALFORMED
    assert "profondeur" in error.message
    assert error.line == 1
    assert time.perf_counter() - started < 1
    assert max_rss_mib() - before < 50


def test_depth_256_is_the_libxml2_ceiling():
    assert parse_safely(b"<a>" * 256 + b"</a>" * 256).tag == "a"
    assert rejected(b"<a>" * 257 + b"</a>" * 257).error.code is RuleCode.XML_MALFORMED


def test_max_depth_can_be_lowered():
    assert parse_safely(b"<a>" * 10 + b"</a>" * 10, max_depth=10).tag == "a"
    error = rejected(b"<a>" * 11 + b"</a>" * 11, max_depth=10).error
    assert error.code is RuleCode.XML_MALFORMED
    assert "10 niveaux" in error.message


def test_bytes_invalid_for_the_declared_encoding_are_malformed():
    text = '<?xml version="1.0" encoding="{}"?>\n<r>\n  <nom>Société Générale</nom>\n</r>'
    raw = text.format("UTF-8").encode("latin-1")
    error = rejected(raw).error
    assert error.code is RuleCode.XML_MALFORMED
    assert (error.line, error.column) == (3, 12)  # the "é" of "Société"
    assert "ligne 3" in error.message
    # The same bytes, honestly declared, are fine.
    assert parse_safely(text.format("ISO-8859-1").encode("latin-1")).tag == "r"


def test_unknown_encoding_is_malformed():
    error = rejected(b'<?xml version="1.0" encoding="X-NOPE"?><r/>').error
    assert error.code is RuleCode.XML_MALFORMED


def test_utf16_documents_are_accepted():
    raw = '<?xml version="1.0" encoding="UTF-16"?><r>é</r>'.encode("utf-16")
    assert parse_safely(raw).text == "é"


@pytest.mark.parametrize(
    "raw",
    [b"hello world", b'{"invoice": 1}', b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", bytes(range(256)) * 4],
    ids=["text", "json", "pdf", "binary"],
)
def test_not_xml_is_malformed_with_a_position(raw):
    error = rejected(raw).error
    assert error.code is RuleCode.XML_MALFORMED
    assert error.line is not None and error.column is not None


def test_a_zip_is_malformed_and_named(kit):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("facture.xml", kit.make())
    raw = buffer.getvalue()
    assert raw.startswith(b"PK\x03\x04")
    error = rejected(raw).error
    assert error.code is RuleCode.XML_MALFORMED
    assert "ZIP" in error.message


def test_truncated_invoice_is_malformed_with_its_line(kit):
    raw = kit.make(lines=20)
    error = rejected(raw[: len(raw) // 2]).error
    assert error.code is RuleCode.XML_MALFORMED
    assert error.line is not None and error.line > 5


def test_only_bytes_are_accepted():
    with pytest.raises(TypeError):
        parse_safely("<r/>")  # type: ignore[arg-type]
