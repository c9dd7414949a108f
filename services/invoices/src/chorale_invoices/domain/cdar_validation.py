"""Check a CDAR against the D22B XSD (lxml) and the BR-FR-CDV rules (compiled XSLT 2.0, run
with saxonche). Both compiled once per process. Returns the findings; empty = valid."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "cdar-d22b"
XSD = SCHEMAS / "CrossDomainAcknowledgementAndResponse_100pD22B.xsd"
RULES = SCHEMAS / "BR-FR-CDV-Schematron-CDAR.xslt"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str
    location: str
    text: str


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@functools.cache
def _rules():
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(RULES))
    return processor, executable


def xsd_errors(xml: bytes) -> list[str]:
    schema = _schema()
    document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(document):
        return []
    return [f"{e.line}: {e.message}" for e in schema.error_log]


def rule_findings(xml: bytes) -> list[Finding]:
    processor, executable = _rules()
    node = processor.parse_xml(xml_text=xml.decode())
    report = executable.transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode())
    return [
        Finding(a.get("id", "?"), a.get("flag", "fatal"), a.get("location", ""),
                " ".join("".join(a.itertext()).split()))
        for a in svrl.iter(f"{{{SVRL}}}failed-assert")
    ]
