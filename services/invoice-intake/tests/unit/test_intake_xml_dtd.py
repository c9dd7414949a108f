"""DOCTYPE, DTD and entities: forbidden, never expanded, never fetched (file:// or http://)."""

from __future__ import annotations

import http.server
import resource
import threading
import time
import urllib.request

import pytest
from lxml import etree

from chorale_intake.domain import xml_safety
from chorale_intake.domain.errors import ErrorLevel, IntakeRejected, RuleCode
from chorale_intake.domain.xml_safety import hardened_parser, parse_safely
from chorale_testkit import hostile_xml as hostile

LAUGHS = hostile.BILLION_LAUGHS


def rejected(raw: bytes, **kwargs: object) -> IntakeRejected:
    with pytest.raises(IntakeRejected) as info:
        parse_safely(raw, **kwargs)  # type: ignore[arg-type]
    assert all(e.level is ErrorLevel.FLOW for e in info.value.errors)
    return info.value


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


@pytest.fixture
def dtd_server():
    """A loopback HTTP server that would serve a leaking DTD, and counts its requests."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b'<!ENTITY leak "LEAKED-OVER-HTTP">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_nothing_is_ever_fetched_over_http(dtd_server):
    base, hits = dtd_server
    documents = [
        f'<!DOCTYPE r SYSTEM "{base}/external.dtd"><r>&leak;</r>',
        f'<!DOCTYPE r PUBLIC "-//X//DTD R//EN" "{base}/public.dtd"><r>&leak;</r>',
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "{base}/xxe">]><r>&x;</r>',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{base}/param.dtd"> %p;]><r>&leak;</r>',
    ]
    for document in documents:
        raw = document.encode()
        assert rejected(raw).error.code is RuleCode.XML_FORBIDDEN_DTD
        # The bare parser too (no DOCTYPE check behind it): nothing fetched, nothing expanded.
        try:
            root = etree.fromstring(raw, hardened_parser())
        except etree.XMLSyntaxError:
            continue
        assert b"LEAKED" not in etree.tostring(root)
    assert hits == []
    # Control: the server does answer whoever asks.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
    with opener.open(f"{base}/control", timeout=5) as response:
        assert response.read().startswith(b"<!ENTITY")
    assert hits == ["/control"]
