"""Extraction of the fields the intake needs (DESIGN.md §6 table), from a schema-valid tree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from lxml import etree
from pydantic import BaseModel, ConfigDict

from chorale_intake.domain.fields import (
    CII_PATHS,
    CREDIT_NOTE_TYPE_CODES,
    NS,
    UBL_CREDIT_NOTE_PATHS,
    UBL_INVOICE_PATHS,
    FieldPaths,
)
from chorale_intake.domain.syntax import RootKind, Syntax

# Buyer/supplier identifier schemes meaning SIRET/SIREN (DESIGN.md §6): Chorus Pro's own "1",
# ISO 6523 ICD 0009 (SIRET) and 0002 (SIRENE).
PREFERRED_SCHEMES = ("1", "0009", "0002")


class DocumentKind(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"


class InvoiceFacts(BaseModel):
    """What the intake rules and the events need from one invoice. Missing values are None."""

    model_config = ConfigDict(frozen=True)

    syntax: Syntax
    root: RootKind
    document_kind: DocumentKind
    number: str | None
    issue_date: date | None
    issue_date_text: str | None  # as written, for messages when it cannot be read
    type_code: str | None
    currency: str | None
    buyer_identifier: str | None
    buyer_scheme: str | None
    buyer_name: str | None
    supplier_identifier: str | None
    supplier_scheme: str | None
    supplier_name: str | None
    service_code: str | None  # BT-10
    engagement: str | None  # BT-13
    total_without_tax: Decimal | None  # BT-109
    tax_total: Decimal | None  # BT-110
    total_with_tax: Decimal | None  # BT-112
    amount_due: Decimal | None  # BT-115

    @property
    def paths(self) -> FieldPaths:
        return paths_for(self.root)


def paths_for(kind: RootKind) -> FieldPaths:
    return {
        RootKind.UBL_INVOICE: UBL_INVOICE_PATHS,
        RootKind.UBL_CREDIT_NOTE: UBL_CREDIT_NOTE_PATHS,
        RootKind.CII_INVOICE: CII_PATHS,
    }[kind]


_Found = tuple[etree._Element, str | None]  # a node and its stripped text
# One level of the locations' tree: element tag (Clark notation) -> (the location ending at
# that element if any, the level below).
_Level = dict[str, tuple[str | None, "_Level"]]


_ABSENT: tuple[None, _Level] = (None, {})
_FILTER_FROM = 24


class _Compiled:
    """All locations of one root kind as a tree of element tags, built once.

    Every location is a plain child path (no predicate), so one walk down the document, into
    only the elements some location goes through, finds every field; a union XPath of the
    locations (one evaluation per document) cost twice as much.
    """

    def __init__(self, paths: FieldPaths) -> None:
        self.paths = paths
        self.tree: _Level = {}
        for expr in sorted({expr for exprs in paths.xpaths.values() for expr in exprs}):
            level, steps = self.tree, self._clark(expr)
            for depth, tag in enumerate(steps):
                ending, below = level.get(tag, (None, {}))
                level[tag] = (expr if depth == len(steps) - 1 else ending, below)
                level = below

    @staticmethod
    def _clark(expr: str) -> tuple[str, ...]:
        steps = []
        for step in expr.split("/"):
            prefix, local = step.split(":")
            steps.append(f"{{{NS[prefix]}}}{local}")
        return tuple(steps)

    def locate(self, root: etree._Element) -> dict[str, list[_Found]]:
        """Nodes found under each location, in document order, with their stripped text.
        `root` is the document element."""
        found: dict[str, list[_Found]] = {}
        self._walk(root, self.tree, found)
        return found

    def _walk(self, node: etree._Element, level: _Level, found: dict[str, list[_Found]]) -> None:
        # lxml's filter costs some 4 µs to set up, a Python step ~0.2 µs a child: filter only
        # among many children (the invoice lines).
        children = node.iterchildren(*level) if len(node) > _FILTER_FROM else node
        for child in children:
            expr, below = level.get(child.tag, _ABSENT)  # comments' tag is a function
            if expr is not None:
                found.setdefault(expr, []).append((child, _text(child)))
            if below:
                self._walk(child, below, found)

    def nodes(self, found: dict[str, list[_Found]], name: str) -> list[_Found]:
        """The nodes of the first location of `name` that holds some text."""
        for expr in self.paths.xpaths[name]:
            nodes = found.get(expr)
            if nodes and any(text for _, text in nodes):
                return nodes
        return []

    def every_node(self, found: dict[str, list[_Found]], name: str) -> list[_Found]:
        """The nodes of every location of `name`, in the order of the locations."""
        return [node for expr in self.paths.xpaths[name] for node in found.get(expr, ())]


def _text(node: etree._Element) -> str | None:
    # Leaves are the rule; itertext (which skips comments and PIs) only for mixed content.
    raw = node.text if len(node) == 0 else "".join(node.itertext())
    text = raw.strip() if raw else ""
    return text or None


_COMPILED = {kind: _Compiled(paths_for(kind)) for kind in RootKind}


def _first_text(nodes: list[_Found]) -> str | None:
    return next((text for _, text in nodes if text), None)


def _scheme(node: etree._Element) -> str | None:
    value = node.get("schemeID") or node.get("schemeName")
    return value.strip() if value and value.strip() else None


def _identifier(nodes: list[_Found]) -> tuple[str | None, str | None]:
    """The identifier of the most preferred SIRET/SIREN scheme if any (a SIRET in the global
    id beats the SIREN of the legal registration), else the first non-empty one."""
    candidates = [(text, _scheme(node)) for node, text in nodes if text]
    preferred = [c for c in candidates if c[1] in PREFERRED_SCHEMES]
    if preferred:
        return min(preferred, key=lambda c: PREFERRED_SCHEMES.index(c[1]))
    return candidates[0] if candidates else (None, None)


def _amount(nodes: list[_Found], currency: str | None) -> Decimal | None:
    """The amount in the document currency when several are given (BT-110 vs BT-111)."""
    text = next(
        (t for node, t in nodes if t and currency and node.get("currencyID") == currency), None
    ) or _first_text(nodes)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _parse_date(text: str | None, date_format: str | None) -> date | None:
    if not text:
        return None
    try:
        if date_format in (None, "", "102") and len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        if date_format in (None, "") and len(text) >= 10:
            # xsd:date / xsd:dateTime, possibly with a time or a time zone after the day.
            return date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None


def extract(root: etree._Element, kind: RootKind) -> InvoiceFacts:
    """Read the intake's fields from `root` (already XSD-valid for `kind`). Never raises on
    content: a missing or unreadable value is None."""
    compiled = _COMPILED[kind]
    found = compiled.locate(root)

    def nodes(name: str) -> list[_Found]:
        return compiled.nodes(found, name)

    def text(name: str) -> str | None:
        return _first_text(nodes(name))

    currency = text("currency")
    date_nodes = nodes("issue_date")
    date_node, issue_date_text = date_nodes[0] if date_nodes else (None, None)
    date_format = date_node.get("format") if date_node is not None else None
    type_code = text("type_code")
    buyer_id, buyer_scheme = _identifier(compiled.every_node(found, "buyer_id"))
    supplier_id, supplier_scheme = _identifier(compiled.every_node(found, "supplier_id"))

    if kind is RootKind.UBL_CREDIT_NOTE or (
        kind is RootKind.CII_INVOICE and type_code in CREDIT_NOTE_TYPE_CODES
    ):
        document_kind = DocumentKind.CREDIT_NOTE
    else:
        document_kind = DocumentKind.INVOICE

    return InvoiceFacts(
        syntax=kind.syntax,
        root=kind,
        document_kind=document_kind,
        number=text("number"),
        issue_date=_parse_date(issue_date_text, date_format),
        issue_date_text=issue_date_text,
        type_code=type_code,
        currency=currency,
        buyer_identifier=buyer_id,
        buyer_scheme=buyer_scheme,
        buyer_name=text("buyer_name"),
        supplier_identifier=supplier_id,
        supplier_scheme=supplier_scheme,
        supplier_name=text("supplier_name"),
        service_code=text("service_code"),
        engagement=text("engagement"),
        total_without_tax=_amount(nodes("total_without_tax"), currency),
        tax_total=_amount(nodes("tax_total"), currency),
        total_with_tax=_amount(nodes("total_with_tax"), currency),
        amount_due=_amount(nodes("amount_due"), currency),
    )
