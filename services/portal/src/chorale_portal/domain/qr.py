"""The QR code of a TOTP enrolment, drawn on the server as inline SVG: the secret it carries
never leaves the page for a third-party service, and the page needs no script."""

from __future__ import annotations

import segno


def qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(
        scale=4, border=2, dark="#000000", light="#ffffff", omitsize=True,
        title="QR code à scanner avec votre application d'authentification")
