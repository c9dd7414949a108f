"""Factur-X PDFs for tests, the benchmark and the demo, made here rather than downloaded: a
one-page PDF drawn with reportlab, the CII invoice embedded with the `factur-x` library (its
XMP metadata says the profile). Both libraries are development dependencies of the workspace,
imported only when a PDF is made.
"""

from __future__ import annotations

import io
from typing import Any

# profile name for `factur-x` -> the specification identifier (BT-24) of that profile
GUIDELINES = {
    "minimum": "urn:factur-x.eu:1p0:minimum",
    "basicwl": "urn:factur-x.eu:1p0:basicwl",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "en16931": "urn:cen.eu:en16931:2017",
    "extended": "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
}
SAMPLE_GUIDELINE = GUIDELINES["en16931"]  # what `invoices.make_cii_invoice` writes


def visual_pdf(title: str = "Facture") -> bytes:
    """The human-readable part: one A4 page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle(title)
    page.drawString(72, 770, title)
    page.drawString(72, 750, "Facture Factur-X : les données sont dans le fichier joint.")
    page.showPage()
    page.save()
    return buffer.getvalue()


def with_guideline(xml: bytes, level: str) -> bytes:
    """`xml` (a sample CII invoice) declaring the profile `level` in BT-24."""
    return xml.replace(SAMPLE_GUIDELINE.encode(), GUIDELINES[level].encode(), 1)


def make_facturx(xml: bytes, *, level: str = "en16931", xmp_level: str | None = None,
                 **options: Any) -> bytes:
    """A Factur-X PDF embedding `xml` as factur-x.xml. The XMP metadata declares `xmp_level`
    (default: `level`); BT-24 of `xml` is set to `level`'s identifier."""
    from facturx import generate_from_binary

    return generate_from_binary(
        visual_pdf(), with_guideline(xml, level), flavor="factur-x",
        level=xmp_level or level, check_xsd=False, **options,
    )
