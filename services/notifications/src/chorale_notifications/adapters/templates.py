"""Renders a message from its `string.Template` files (see `chorale_notifications.templates`).

Values are plain data: strings, or lists of strings rendered as bullet lines (text) and `<li>`
items (HTML). Every value is escaped for HTML; a missing value fails loudly (KeyError)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any

_PACKAGE = "chorale_notifications.templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _load(name: str) -> Template:
    return Template(resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8"))


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(f"  • {v}" for v in value)
    return "" if value is None else str(value)


def _as_html(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "".join(f"<li>{html.escape(str(v))}</li>" for v in value)
    return html.escape("" if value is None else str(value))


def render(template: str, context: dict[str, Any]) -> Rendered:
    text_values = {k: _as_text(v) for k, v in context.items()}
    subject_line, _, body = _load(f"{template}.txt").template.partition("\n")
    # A subject is one header line: no value may smuggle a line break into it.
    subject = " ".join(Template(subject_line).substitute(text_values).split())
    text = Template(body).substitute(text_values).strip() + "\n"
    html_values = {k: _as_html(v) for k, v in context.items()}
    content = _load(f"{template}.html").substitute(html_values)
    page = _load("_layout.html").substitute(
        sujet=html.escape(subject), contenu=content,
        lien_messages=html_values.get("lien_messages", ""),
    )
    return Rendered(subject, text, page)


def template_exists(template: str) -> bool:
    return resources.files(_PACKAGE).joinpath(f"{template}.txt").is_file()
