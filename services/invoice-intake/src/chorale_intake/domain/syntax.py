"""Flow syntaxes: detection from the root element, check against the declared one."""

from __future__ import annotations

from enum import StrEnum

from lxml import etree

from chorale_contracts.events.common import Syntax
from chorale_intake.domain.errors import IntakeRejected, RuleCode, rule_error

__all__ = [
    "CII_NS",
    "UBL_CREDIT_NOTE_NS",
    "UBL_INVOICE_NS",
    "RootKind",
    "Syntax",
    "check_declared",
    "detect_root",
    "detect_syntax",
    "resolve_syntax",
]

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"


class RootKind(StrEnum):
    """The root elements accepted; each has its own XSD."""

    UBL_INVOICE = "UBL_INVOICE"
    UBL_CREDIT_NOTE = "UBL_CREDIT_NOTE"
    CII_INVOICE = "CII_INVOICE"

    @property
    def syntax(self) -> Syntax:
        if self is RootKind.CII_INVOICE:
            return Syntax.IN_DP_E1_CII_16B
        return Syntax.IN_DP_E1_UBL_INVOICE


_ROOTS: dict[str, RootKind] = {
    f"{{{UBL_INVOICE_NS}}}Invoice": RootKind.UBL_INVOICE,
    f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote": RootKind.UBL_CREDIT_NOTE,
    f"{{{CII_NS}}}CrossIndustryInvoice": RootKind.CII_INVOICE,
}


def detect_root(root: etree._Element) -> RootKind | None:
    tag = root.tag
    return _ROOTS.get(tag) if isinstance(tag, str) else None


def detect_syntax(root: etree._Element) -> Syntax | None:
    kind = detect_root(root)
    return kind.syntax if kind else None


def _parse_declared(declared: str | None) -> Syntax | None:
    """None for "not declared"; raises SYNTAX_UNKNOWN for a value we do not accept."""
    if declared is None or not declared.strip():
        return None
    value = declared.strip().upper()
    try:
        return Syntax(value)
    except ValueError:
        accepted = ", ".join(s.value for s in Syntax)
        raise IntakeRejected(
            rule_error(
                RuleCode.SYNTAX_UNKNOWN,
                value=declared.strip()[:200],
                detail=f"syntaxe déclarée « {declared.strip()[:200]} » "
                f"(syntaxes acceptées : {accepted})",
            )
        ) from None


def check_declared(declared: str | None, detected: Syntax) -> Syntax:
    """`detected`, unless the partner declared another syntax (SYNTAX_UNKNOWN, SYNTAX_MISMATCH)."""
    declared_syntax = _parse_declared(declared)
    if declared_syntax is not None and declared_syntax is not detected:
        raise IntakeRejected(
            rule_error(
                RuleCode.SYNTAX_MISMATCH,
                value=declared_syntax.value,
                declared=declared_syntax.value,
                detected=detected.value,
            )
        )
    return detected


def resolve_syntax(root: etree._Element, declared: str | None) -> Syntax:
    """The flow's syntax, detected from the root element and checked against `declared`."""
    declared_syntax = _parse_declared(declared)
    detected = detect_syntax(root)
    if detected is None:
        qname = etree.QName(root)
        found = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
        raise IntakeRejected(
            rule_error(
                RuleCode.SYNTAX_UNKNOWN,
                line=root.sourceline,
                path=f"/{qname.localname}",
                value=found[:200],
                detail=f"élément racine {found[:200]} (attendu : Invoice ou CreditNote UBL 2.1, "
                "ou CrossIndustryInvoice CII D16B)",
            )
        )
    if declared_syntax is not None and declared_syntax is not detected:
        raise IntakeRejected(
            rule_error(
                RuleCode.SYNTAX_MISMATCH,
                value=declared_syntax.value,
                declared=declared_syntax.value,
                detected=detected.value,
            )
        )
    return detected
