"""A message of « Mes messages » as lines of text and links. Mails carry the portal's full
addresses (`http://…/factures-recues/FAC…`); in the portal they become links to the same page
of this site — the path only, and only towards the screens listed here, so that a value
quoted in a message (a supplier's comment, say) can never become a link elsewhere. Pure."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

URL = re.compile(r"https?://[^\s<>\"']+")
PORTAL_PATHS = ("/suivi-des-flux", "/factures-recues", "/factures-emises", "/mes-messages",
                "/mon-compte", "/approbations", "/structures", "/organisation")

Piece = tuple[str, str | None]  # (text, link or None)


def _own_path(url: str) -> str | None:
    parts = urlsplit(url)
    path = parts.path or "/"
    if not any(path == p or path.startswith(p + "/") for p in PORTAL_PATHS):
        return None
    if not re.fullmatch(r"[A-Za-z0-9/_.\-]+", path) or "//" in path:
        return None
    return path


def pieces(text: str) -> list[list[Piece]]:
    """Each line of `text` cut into plain text and links to the portal's own pages."""
    lines = []
    for line in text.splitlines():
        found: list[Piece] = []
        start = 0
        for match in URL.finditer(line):
            path = _own_path(match.group(0).rstrip(".,;)"))
            if path is None:
                continue
            found.append((line[start:match.start()], None))
            found.append((path, path))
            start = match.start() + len(match.group(0).rstrip(".,;)"))
        found.append((line[start:], None))
        lines.append(found)
    return lines
