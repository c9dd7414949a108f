"""Hostile and broken inputs are rejected with the right code, in bounded time and memory."""

from __future__ import annotations

import io
import resource
import time
import zipfile

import pytest
from chorale_intake.domain import xml_safety
from chorale_intake.domain.errors import ErrorLevel, IntakeRejected, RuleCode
from chorale_intake.domain.xml_safety import DEFAULT_MAX_BYTES, hardened_parser, parse_safely
from lxml import etree

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>\n"
)


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


def test_billion_laughs_is_forbidden_in_bounded_time_and_memory():
    before = max_rss_mib()
    started = time.perf_counter()
    error = rejected(LAUGHS).error
    assert error.code is RuleCode.XML_FORBIDDEN_DTD
    assert "<!DOCTYPE lolz" in error.message
    assert time.perf_counter() - started < 1
    assert max_rss_mib() - before < 50


def test_quadratic_blowup_is_forbidden():
    raw = b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 100_000 + b'">]><r>' + b"&a;" * 50_000 + b"</r>"
    assert rejected(raw).error.code is RuleCode.XML_FORBIDDEN_DTD


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


def test_xxe_file_is_forbidden_and_never_read(secret_file):
    raw = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]><r>&x;</r>'
    ).encode()
    error = rejected(raw).error
    assert error.code is RuleCode.XML_FORBIDDEN_DTD
    assert "TOP-SECRET" not in error.model_dump_json()


def test_xxe_etc_passwd_is_forbidden():
    raw = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    error = rejected(raw).error
    assert error.code is RuleCode.XML_FORBIDDEN_DTD
    assert "root:" not in error.model_dump_json()


@pytest.mark.parametrize(
    "raw",
    [
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>',
        b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><r/>',
        b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd"><r/>',
        b'<!DOCTYPE r PUBLIC "-//X//DTD R//EN" "http://127.0.0.1:9/r.dtd"><r/>',
        b"<!DOCTYPE r [<!ELEMENT r ANY>]><r/>",
        b"<!DOCTYPE r><r/>",
        b'<!DOCTYPE r [<!ENTITY a "b">]><r x="&a;"/>',
        # Not well-formed after the DOCTYPE: still reported as a DTD, never parsed.
        b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r',
        # Whitespace, comments and a PI before the DOCTYPE.
        b'<?xml version="1.0"?>\n<!-- hi -->\n<?pi x?>\n'
        b'<!DOCTYPE\n  r\n  [ <!ENTITY x "y"> ]\n>\n<r/>',
        # UTF-16: a byte-level substring search would not see it.
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode(
            "utf-16"
        ),
    ],
    ids=[
        "xxe-http",
        "parameter-entity-http",
        "external-dtd-system",
        "external-dtd-public",
        "internal-subset",
        "bare-doctype",
        "entity-in-attribute",
        "malformed-after-doctype",
        "doctype-after-prolog",
        "utf16",
    ],
)
def test_any_doctype_is_forbidden(raw):
    assert rejected(raw).error.code is RuleCode.XML_FORBIDDEN_DTD


@pytest.mark.parametrize(
    "raw",
    [
        b"<r><!-- <!DOCTYPE r [<!ENTITY x 'y'>]> --></r>",
        b"<r><![CDATA[<!DOCTYPE r [<!ENTITY x 'y'>]>]]></r>",
        b"<r>&lt;!DOCTYPE r&gt;</r>",
    ],
    ids=["in-comment", "in-cdata", "escaped-text"],
)
def test_doctype_text_that_is_not_a_declaration_is_accepted(raw):
    assert parse_safely(raw).tag == "r"


def test_hardened_parser_neither_expands_entities_nor_loads_dtds(secret_file):
    """Defence in depth, without the DOCTYPE probe: the parser itself stays safe."""
    xxe = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]><r>&x;</r>'.encode()
    root = etree.fromstring(xxe, hardened_parser())
    assert b"TOP-SECRET" not in etree.tostring(root)
    # The external DTD is never requested: the refusing resolver would have raised.
    external = b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd"><r/>'
    assert etree.fromstring(external, hardened_parser()).tag == "r"


def test_refusing_resolver_is_consulted_when_a_load_is_attempted():
    """Control for the test above: with DTD loading on, the resolver stops the load."""
    parser = etree.XMLParser(load_dtd=True, no_network=True)
    parser.resolvers.add(xml_safety._RefuseExternal())
    with pytest.raises(xml_safety._ExternalResourceRefused):
        etree.fromstring(b'<!DOCTYPE r SYSTEM "file:///etc/hostname"><r/>', parser)


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


def test_parser_options_do_not_switch_external_subset_loading_back_on():
    """collect_ids=False would (libxml2 < 2.15) make libxml2 load the external DTD subset."""
    assert xml_safety._parser_options().get("collect_ids", True) is True
    assert xml_safety._parser_options()["load_dtd"] is False


def test_doctype_behind_a_long_prolog_in_a_broken_file_is_still_found():
    """The probe of refused files reads past its first chunk when the prolog is long."""
    raw = b"<!--" + b"x" * 200_000 + b'-->\n<!DOCTYPE r [<!ENTITY x "y">]>\n<r>&x;</oops>'
    assert rejected(raw).error.code is RuleCode.XML_FORBIDDEN_DTD
    assert rejected(raw.replace(b'<!DOCTYPE r [<!ENTITY x "y">]>', b"")).error.code is (
        RuleCode.XML_MALFORMED
    )
