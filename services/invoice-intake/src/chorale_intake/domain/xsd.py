"""XSD validation against the vendored official schemas (UBL 2.1, CII D16B).

Each schema is compiled once per process, lazily, under a lock. lxml keeps one error log per
`XMLSchema` object, so concurrent validations against the same object would mix their errors:
validation (and reading its log) is therefore serialised per schema. Scale out with processes.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from pathlib import Path

from lxml import etree

from chorale_intake.domain.errors import IntakeError, RuleCode, rule_error
from chorale_intake.domain.syntax import RootKind

MAX_XSD_ERRORS = 20

_SCHEMA_FILES: dict[RootKind, tuple[str, str]] = {
    RootKind.UBL_INVOICE: ("ubl-2.1/maindoc/UBL-Invoice-2.1.xsd", "UBL 2.1 Invoice"),
    RootKind.UBL_CREDIT_NOTE: ("ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd", "UBL 2.1 CreditNote"),
    RootKind.CII_INVOICE: (
        "cii-d16b/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd",
        "CII D16B CrossIndustryInvoice",
    ),
}

# Shorter, readable messages: "{urn:...CommonBasicComponents-2}IssueDate" -> "cbc:IssueDate".
PREFIXES = {
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
}
_CLARK = re.compile(r"\{([^}]*)\}")


def _shorten(message: str) -> str:
    def prefix(match: re.Match[str]) -> str:
        short = PREFIXES.get(match.group(1))
        if short is None:
            return match.group(0)
        return f"{short}:" if short else ""

    return _CLARK.sub(prefix, message)


# Factur-X 1.09 profile schemas (vendored with the business rules): "EN16931" serves the
# BASIC, EN 16931 and XRechnung profiles (subsets of it), "EXTENDED" the EXTENDED profile.
_FACTURX_FILES: dict[str, tuple[str, str]] = {
    "EN16931": ("fr-ctc-1.4.0/Factur-X/EN16931/1xsd/Factur-X_EN16931.xsd",
                "Factur-X 1.09 EN 16931"),
    "EXTENDED": ("fr-ctc-1.4.0/Factur-X/EXTENDED/1xsd/Factur-X_EXTENDED.xsd",
                 "Factur-X 1.09 EXTENDED"),
}


class _CompiledSchema:
    def __init__(self, relative: str, label: str, folder: str = "schemas") -> None:
        self.relative = relative
        self.label = label
        self.folder = folder
        self._schema: etree.XMLSchema | None = None
        self._lock = threading.Lock()

    def _compile(self) -> etree.XMLSchema:
        with resources.as_file(resources.files("chorale_intake") / self.folder) as base:
            path = Path(base) / self.relative
            # Trusted, vendored files: their own internal DTD (xmldsig) is fine; the network is not.
            parser = etree.XMLParser(no_network=True)
            return etree.XMLSchema(etree.parse(str(path), parser))

    def validate(self, tree: etree._ElementTree, limit: int) -> list[IntakeError]:
        with self._lock:
            if self._schema is None:
                self._schema = self._compile()
            if self._schema.validate(tree):
                return []
            entries = list(self._schema.error_log)
        errors = [
            rule_error(
                RuleCode.XSD_INVALID,
                line=entry.line or None,
                path=entry.path or None,
                schema=self.label,
                detail=_shorten(entry.message.strip()),
            )
            for entry in entries[:limit]
        ]
        if len(entries) > limit:
            errors.append(
                rule_error(
                    RuleCode.XSD_INVALID,
                    schema=self.label,
                    detail=f"{len(entries) - limit} autre(s) erreur(s) non détaillée(s)",
                )
            )
        return errors

    def warm_up(self) -> None:
        with self._lock:
            if self._schema is None:
                self._schema = self._compile()


_SCHEMAS = {kind: _CompiledSchema(*_SCHEMA_FILES[kind]) for kind in RootKind}
_FACTURX_SCHEMAS = {name: _CompiledSchema(relative, label, "rulesets")
                    for name, (relative, label) in _FACTURX_FILES.items()}


def validate_xsd(
    root: etree._Element, kind: RootKind, *, limit: int = MAX_XSD_ERRORS
) -> list[IntakeError]:
    """XSD_INVALID errors (line, path) of the document, [] if valid; at most `limit` + 1."""
    return _SCHEMAS[kind].validate(root.getroottree(), limit)


def validate_facturx_xsd(
    root: etree._Element, extended: bool, *, limit: int = MAX_XSD_ERRORS
) -> list[IntakeError]:
    """XSD_INVALID errors of a Factur-X invoice against its profile's schema, [] if valid."""
    schema = _FACTURX_SCHEMAS["EXTENDED" if extended else "EN16931"]
    return schema.validate(root.getroottree(), limit)


def schema_label(kind: RootKind) -> str:
    """Human name of the schema for `kind`, e.g. "UBL 2.1 Invoice"."""
    return _SCHEMA_FILES[kind][1]


def warm_up() -> None:
    """Compile every schema now (e.g. at service start-up) rather than on the first flow."""
    for schema in (*_SCHEMAS.values(), *_FACTURX_SCHEMAS.values()):
        schema.warm_up()
