"""Factur-X: profile rules (pure), and PDFs made here (reportlab + factur-x), good and bad,
through the intake's analysis."""

from __future__ import annotations

import io
import re
import zlib

import pikepdf
import pytest

from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.errors import ErrorLevel, IntakeRejected, RuleCode
from chorale_intake.domain.facturx import (
    Profile,
    check_profiles,
    conformance_level,
    profile_of_guideline,
)
from chorale_testkit.facturx import GUIDELINES, make_facturx, visual_pdf

FACTURX = "IN_DP_E2_CII_FACTURX"


@pytest.mark.parametrize(
    ("guideline", "profile"),
    [(GUIDELINES["minimum"], Profile.MINIMUM), (GUIDELINES["basicwl"], Profile.BASIC_WL),
     (GUIDELINES["basic"], Profile.BASIC), (GUIDELINES["en16931"], Profile.EN16931),
     (GUIDELINES["extended"], Profile.EXTENDED),
     ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
      Profile.XRECHNUNG),
     ("urn:other", None), (None, None)],
)
def test_profile_of_the_guideline(guideline, profile):
    assert profile_of_guideline(guideline) is profile


def test_profiles_must_agree_and_be_invoices():
    assert check_profiles("EN 16931", GUIDELINES["en16931"]) is Profile.EN16931
    assert check_profiles("extended", GUIDELINES["extended"]) is Profile.EXTENDED
    for xmp, guideline, code in [
        ("BASIC", GUIDELINES["en16931"], RuleCode.FACTURX_PROFILE_MISMATCH),
        (None, GUIDELINES["en16931"], RuleCode.FACTURX_PROFILE_MISMATCH),
        ("EN 16931", "urn:other", RuleCode.FACTURX_PROFILE_MISMATCH),
        ("MINIMUM", GUIDELINES["minimum"], RuleCode.FACTURX_PROFILE_NOT_INVOICE),
        ("BASIC WL", GUIDELINES["basicwl"], RuleCode.FACTURX_PROFILE_NOT_INVOICE),
    ]:
        with pytest.raises(IntakeRejected) as rejected:
            check_profiles(xmp, guideline)
        assert rejected.value.error.code is code
        assert rejected.value.error.level is ErrorLevel.FLOW


def test_conformance_level_in_element_or_attribute_form():
    element = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
               b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:fx="urn:factur-x:pdfa:CrossIndustry'
               b'Document:invoice:1p0#"><fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>'
               b"</rdf:Description></rdf:RDF></x:xmpmeta>")
    attribute = (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
                 b' xmlns:fx="urn:zugferd:pdfa:CrossIndustryDocument:invoice:2p0#"'
                 b' fx:ConformanceLevel="EXTENDED"/></rdf:RDF>')
    assert conformance_level(element) == "EN 16931"
    assert conformance_level(attribute) == "EXTENDED"
    assert conformance_level(b"<not xml") is None


# -- PDFs through the analysis -----------------------------------------------------------------

@pytest.fixture
def invoice(kit) -> bytes:
    return kit.make(kit.CII)


@pytest.mark.parametrize("level", ["basic", "en16931", "extended"])
def test_a_facturx_invoice_is_accepted_with_its_profile(invoice, level):
    pdf = make_facturx(invoice, level=level)
    analysis = analyse(pdf)
    assert analysis.accepted, [e.message for e in analysis.errors]
    assert analysis.syntax.value == FACTURX
    assert analysis.profile == {"basic": "BASIC", "en16931": "EN 16931",
                                "extended": "EXTENDED"}[level]
    assert analysis.findings == ()
    assert analysis.facts is not None and analysis.facts.number == "FA-2024-0042"
    assert analyse(pdf, FACTURX).accepted  # declared


def test_a_facturx_invoice_breaking_en16931_gets_its_findings(invoice):
    broken = re.sub(rb"(<ram:GrandTotalAmount>)[0-9.]+<", rb"\g<1>999.99<", invoice)
    analysis = analyse(make_facturx(broken))
    assert analysis.accepted and "BR-CO-15" in {f.rule for f in analysis.findings}


def _codes(raw: bytes, declared: str | None = None) -> list[str]:
    analysis = analyse(raw, declared)
    assert all(e.level is ErrorLevel.FLOW for e in analysis.errors)
    return [e.code.value for e in analysis.errors]


@pytest.mark.parametrize(("level", "code"), [("minimum", "FACTURX_PROFILE_NOT_INVOICE"),
                                             ("basicwl", "FACTURX_PROFILE_NOT_INVOICE")])
def test_minimum_and_basic_wl_are_not_invoices(invoice, level, code):
    assert _codes(make_facturx(invoice, level=level)) == [code]


def test_the_xmp_profile_must_agree_with_the_invoice(invoice):
    assert _codes(make_facturx(invoice, xmp_level="basic")) == ["FACTURX_PROFILE_MISMATCH"]


def test_declared_syntax_must_match(kit, invoice):
    assert _codes(make_facturx(invoice), kit.CII) == ["SYNTAX_MISMATCH"]
    assert _codes(invoice, FACTURX) == ["SYNTAX_MISMATCH"]  # an XML declared Factur-X


def test_not_a_pdf(invoice):
    assert _codes(b"bonjour, ceci n'est pas un PDF", FACTURX) == ["PDF_INVALID"]
    analysis = analyse(b"%PDF-1.7\nrien de lisible\n%%EOF\n")
    assert [e.code.value for e in analysis.errors] == ["PDF_INVALID"]
    assert "trailer" in analysis.errors[0].message and "0x" not in analysis.errors[0].message


def test_truncated(invoice):
    pdf = make_facturx(invoice)
    assert _codes(pdf[: len(pdf) // 2]) == ["PDF_TRUNCATED"]


def test_encrypted(invoice):
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(make_facturx(invoice))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="proprietaire", user="secret"))
    assert _codes(out.getvalue()) == ["PDF_ENCRYPTED"]
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(make_facturx(invoice))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="proprietaire", user=""))
    assert _codes(out.getvalue()) == ["PDF_ENCRYPTED"]  # opens without a password, still no


def test_no_embedded_invoice():
    assert _codes(visual_pdf()) == ["FACTURX_NO_INVOICE"]


def _with_attachment(pdf_bytes: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, mime_type="text/xml")
        pdf.save(out)
    return out.getvalue()


def test_two_embedded_invoices_that_disagree(kit, invoice):
    other = kit.make(kit.CII, number="FA-2024-0043")
    pdf = _with_attachment(make_facturx(invoice), "zugferd-invoice.xml", other)
    assert _codes(pdf) == ["FACTURX_AMBIGUOUS"]


def test_two_identical_embedded_invoices_are_one(invoice):
    pdf = make_facturx(invoice)
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        xml = opened.attachments["factur-x.xml"].get_file().read_bytes()
    assert analyse(_with_attachment(pdf, "xrechnung.xml", xml)).accepted


def test_a_decompression_bomb_is_refused_with_bounded_memory(invoice):
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(make_facturx(invoice))) as pdf:
        spec = pdf.attachments["factur-x.xml"].obj
        bomb = zlib.compress(b"<" + b" " * (32 * 1024 * 1024), 9)  # 32 MB in 32 KB
        stream = pikepdf.Stream(pdf, bomb)
        stream.Filter = pikepdf.Name.FlateDecode
        stream.Type = pikepdf.Name.EmbeddedFile
        spec.EF.F = stream
        spec.EF.UF = stream
        pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    assert _codes(out.getvalue()) == ["PDF_TOO_COMPLEX"]


def test_an_embedded_invoice_with_a_dtd_is_refused(invoice):
    with_dtd = invoice.replace(b"<rsm:CrossIndustryInvoice",
                               b'<!DOCTYPE x [<!ENTITY e "e">]>\n<rsm:CrossIndustryInvoice', 1)
    assert _codes(make_facturx(with_dtd)) == ["XML_FORBIDDEN_DTD"]


def test_an_embedded_invoice_is_checked_against_its_profile_xsd(invoice):
    invalid = invoice.replace(b"<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>",
                              b"<ram:Devise>EUR</ram:Devise>", 1)
    assert set(_codes(make_facturx(invalid))) == {"XSD_INVALID"}
