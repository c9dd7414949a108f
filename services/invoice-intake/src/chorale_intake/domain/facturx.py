"""Factur-X (syntax IN_DP_E2_CII_FACTURX): the CII invoice embedded in a PDF/A-3.

`open_facturx` takes the deposited bytes and returns the embedded XML and the profile the PDF
declares in its XMP metadata, or rejects the file with a flow-level code. Memory stays bounded
whatever the PDF holds: only the embedded file and the metadata streams are decoded, each by
`bounded_stream` (FlateDecode or no filter, at most `max_xml_bytes` decoded), never by the PDF
library's own unbounded decoder. The profile rules (`profile_of_guideline`, `check_profiles`)
are pure.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lxml import etree

from chorale_intake.domain.errors import IntakeRejected, RuleCode, rule_error

# Names the Factur-X / ZUGFeRD / XRechnung specifications give the embedded invoice.
INVOICE_FILE_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
PDF_MAGIC = b"%PDF-"
_MAGIC_WINDOW = 1024  # a PDF reader accepts the header within the first 1,024 bytes
_EOF_WINDOW = 2048


class Profile(StrEnum):
    """Factur-X profiles, by the name the XMP metadata gives them (fx:ConformanceLevel)."""

    MINIMUM = "MINIMUM"
    BASIC_WL = "BASIC WL"
    BASIC = "BASIC"
    EN16931 = "EN 16931"
    EXTENDED = "EXTENDED"
    XRECHNUNG = "XRECHNUNG"

    @property
    def is_invoice(self) -> bool:
        """MINIMUM and BASIC WL lack the invoice lines: they are not invoices in France."""
        return self not in (Profile.MINIMUM, Profile.BASIC_WL)


# BT-24 (specification identifier) -> profile.
_GUIDELINES = {
    "urn:factur-x.eu:1p0:minimum": Profile.MINIMUM,
    "urn:factur-x.eu:1p0:basicwl": Profile.BASIC_WL,
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic": Profile.BASIC,
    "urn:cen.eu:en16931:2017": Profile.EN16931,
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended": Profile.EXTENDED,
}
_XRECHNUNG_PREFIX = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung"
# XMP names of the profiles, as written by Factur-X and ZUGFeRD 2 producers.
_XMP_NAMES = {
    "MINIMUM": Profile.MINIMUM,
    "BASIC WL": Profile.BASIC_WL,
    "BASICWL": Profile.BASIC_WL,
    "BASIC": Profile.BASIC,
    "EN 16931": Profile.EN16931,
    "EN16931": Profile.EN16931,
    "COMFORT": Profile.EN16931,
    "EXTENDED": Profile.EXTENDED,
    "XRECHNUNG": Profile.XRECHNUNG,
}


def profile_of_guideline(guideline: str | None) -> Profile | None:
    """The profile named by the XML's specification identifier (BT-24), None if unknown."""
    if not guideline:
        return None
    value = guideline.strip()
    if value.startswith(_XRECHNUNG_PREFIX):
        return Profile.XRECHNUNG
    return _GUIDELINES.get(value)


def profile_of_xmp_name(name: str | None) -> Profile | None:
    if not name:
        return None
    return _XMP_NAMES.get(" ".join(name.split()).upper())


def conformance_level(xmp: bytes) -> str | None:
    """fx:ConformanceLevel of XMP metadata (element or attribute form, any Factur-X/ZUGFeRD
    namespace), None when absent or unreadable. A DTD or entity is never read."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(xmp.strip(), parser)
    except etree.XMLSyntaxError:
        return None
    if root.getroottree().docinfo.doctype:
        return None
    for node in root.iter():
        if isinstance(node.tag, str) and etree.QName(node).localname == "ConformanceLevel":
            return (node.text or "").strip() or None
        for name, value in node.attrib.items():
            if etree.QName(name).localname == "ConformanceLevel":
                return value.strip() or None
    return None


def check_profiles(declared_xmp: str | None, guideline: str | None) -> Profile:
    """The profile of a Factur-X invoice: the XMP's and the XML's must name the same one, and it
    must be an invoice profile. Raises IntakeRejected (flow level) otherwise."""
    from_xml = profile_of_guideline(guideline)
    from_xmp = profile_of_xmp_name(declared_xmp)
    if from_xml is None or from_xmp is None or from_xml is not from_xmp:
        raise IntakeRejected(
            rule_error(
                RuleCode.FACTURX_PROFILE_MISMATCH,
                value=(guideline or "")[:200],
                xmp=declared_xmp or "absent",
                guideline=guideline or "absent",
            )
        )
    if not from_xml.is_invoice:
        raise IntakeRejected(
            rule_error(RuleCode.FACTURX_PROFILE_NOT_INVOICE, value=from_xml.value,
                       profile=from_xml.value)
        )
    return from_xml


def looks_like_pdf(raw: bytes) -> bool:
    return PDF_MAGIC in raw[:_MAGIC_WINDOW]


@dataclass(frozen=True)
class Embedded:
    xml: bytes
    file_name: str
    conformance_level: str | None  # as the XMP metadata writes it


_STREAM_NAME = re.compile(r"^.*? object at 0x[0-9a-f]+>:\s*")


def _reason(exc: Exception) -> str:
    """qpdf's message without the name of our in-memory stream."""
    return _STREAM_NAME.sub("", str(exc))[:300] or type(exc).__name__


def _reject(code: RuleCode, **params: Any) -> IntakeRejected:
    return IntakeRejected(rule_error(code, **params))


def bounded_stream(stream: object, limit: int, what: str) -> bytes:
    """The decoded data of a PDF stream, at most `limit` bytes: a small stream that inflates to
    gigabytes (a decompression bomb) is refused after `limit` + 1 bytes, never decoded whole.
    Only FlateDecode (or no filter) is decoded: what Factur-X producers use for XML."""
    import pikepdf

    assert isinstance(stream, pikepdf.Stream)
    filters = stream.get("/Filter")
    names = ([str(filters)] if isinstance(filters, pikepdf.Name)
             else [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [])
    if stream.get("/DecodeParms") is not None or any(n != "/FlateDecode" for n in names):
        raise _reject(RuleCode.PDF_TOO_COMPLEX,
                      detail=f"{what} : filtre {' '.join(names) or '?'} non pris en charge")
    data = stream.read_raw_bytes()
    for _ in names:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, limit + 1)
        except zlib.error as exc:
            raise _reject(RuleCode.PDF_INVALID, detail=f"{what} illisible ({exc})") from None
        if len(data) > limit:
            raise _reject(RuleCode.PDF_TOO_COMPLEX,
                          detail=f"{what} : plus de {limit} octets une fois décompressé")
    if len(data) > limit:
        raise _reject(RuleCode.PDF_TOO_COMPLEX, detail=f"{what} : plus de {limit} octets")
    return data


def _invoice_files(pdf: object) -> list[tuple[str, object]]:
    """(name, embedded file stream) of every attachment named like a Factur-X invoice, from the
    document's name tree and its associated files (/AF), without duplicates."""
    import pikepdf

    assert isinstance(pdf, pikepdf.Pdf)
    found: dict[tuple[int, int] | int, tuple[str, object]] = {}

    def consider(spec: object) -> None:
        if not isinstance(spec, pikepdf.Dictionary):
            return
        name = str(spec.get("/UF") or spec.get("/F") or "")
        embedded = spec.get("/EF")
        stream = embedded.get("/F") if isinstance(embedded, pikepdf.Dictionary) else None
        if name.strip().lower() in INVOICE_FILE_NAMES and isinstance(stream, pikepdf.Stream):
            key = stream.objgen if stream.objgen != (0, 0) else id(stream)
            found.setdefault(key, (name, stream))

    for spec in pdf.attachments.values():
        consider(spec.obj)
    associated = pdf.Root.get("/AF")
    if isinstance(associated, pikepdf.Array):
        for entry in associated:
            consider(entry)
    return list(found.values())


def open_facturx(raw: bytes, *, max_xml_bytes: int) -> Embedded:
    """The invoice embedded in the PDF `raw`, or IntakeRejected with a flow-level code:
    PDF_INVALID, PDF_TRUNCATED, PDF_ENCRYPTED, PDF_TOO_COMPLEX, FACTURX_NO_INVOICE,
    FACTURX_AMBIGUOUS."""
    import pikepdf

    if not looks_like_pdf(raw):
        raise _reject(RuleCode.PDF_INVALID, detail="l'en-tête %PDF- est absent")
    if b"%%EOF" not in raw[-_EOF_WINDOW:]:
        raise _reject(RuleCode.PDF_TRUNCATED)
    try:
        pdf = pikepdf.open(io.BytesIO(raw))
    except pikepdf.PasswordError:
        raise _reject(RuleCode.PDF_ENCRYPTED) from None
    except MemoryError:
        raise
    except Exception as exc:  # qpdf's own errors, and the odd ValueError of a broken file
        raise _reject(RuleCode.PDF_INVALID, detail=_reason(exc)) from None
    with pdf:
        if pdf.is_encrypted:
            raise _reject(RuleCode.PDF_ENCRYPTED)
        try:
            files = _invoice_files(pdf)
            if not files:
                raise _reject(RuleCode.FACTURX_NO_INVOICE)
            contents = {bounded_stream(stream, max_xml_bytes, f"fichier joint {name}"): name
                        for name, stream in files}
            if len(contents) > 1:
                raise _reject(RuleCode.FACTURX_AMBIGUOUS,
                              names=", ".join(sorted({name for name, _ in files})))
            (xml, name), = contents.items()
            metadata = pdf.Root.get("/Metadata")
            level = (conformance_level(bounded_stream(metadata, max_xml_bytes, "métadonnées XMP"))
                     if isinstance(metadata, pikepdf.Stream) else None)
        except (IntakeRejected, MemoryError):
            raise
        except Exception as exc:  # a broken object tree: the file's fault, not a technical one
            raise _reject(RuleCode.PDF_INVALID, detail=_reason(exc)) from None
    return Embedded(xml=xml, file_name=name, conformance_level=level)
