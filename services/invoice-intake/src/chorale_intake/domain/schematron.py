"""Running the official compiled schematrons (XSLT 2.0) with Saxon (saxonche).

lxml only does XSLT 1.0; the CEN and FNFE artefacts need XSLT 2.0. Each stylesheet is compiled
once per process (lazily, or all at once by `warm_up` when a validation worker starts), and the
document is parsed into Saxon's tree once, then shared by every stylesheet that checks it.
Saxon's processor is not documented as thread-safe: calls are serialised per process (the intake
scales with worker processes, as for the XSD).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

from chorale_intake.domain.business_rules import BrFrMode, Finding, RuleSet, parse_svrl
from chorale_intake.domain.syntax import RootKind
from chorale_intake.domain.xsd import PREFIXES


class Stylesheet(StrEnum):
    EN16931_UBL = "EN16931_UBL"
    EN16931_CII = "EN16931_CII"
    BR_FR_UBL = "BR_FR_UBL"
    BR_FR_CII = "BR_FR_CII"
    FACTURX_EN16931 = "FACTURX_EN16931"  # the Factur-X EN 16931 (and BASIC) profile's rules
    FACTURX_EXTENDED = "FACTURX_EXTENDED"


# stylesheet -> (file under rulesets/, who wrote its rules)
_FILES: dict[Stylesheet, tuple[str, RuleSet]] = {
    Stylesheet.EN16931_UBL: ("en16931/EN16931-UBL-validation.xslt", RuleSet.EN16931),
    Stylesheet.EN16931_CII: ("en16931/EN16931-CII-validation.xslt", RuleSet.EN16931),
    Stylesheet.BR_FR_UBL: ("fr-ctc-1.4.0/UBL/BR-FR-Flux2-Schematron-UBL.xslt", RuleSet.BR_FR),
    Stylesheet.BR_FR_CII: ("fr-ctc-1.4.0/CII/BR-FR-Flux2-Schematron-CII.xslt", RuleSet.BR_FR),
    Stylesheet.FACTURX_EN16931: (
        "fr-ctc-1.4.0/Factur-X/EN16931/2xslt/FACTUR-X_EN16931.xslt", RuleSet.FACTURX),
    Stylesheet.FACTURX_EXTENDED: (
        "fr-ctc-1.4.0/Factur-X/EXTENDED/2xslt/Factur-X_EXTENDED.xslt", RuleSet.FACTURX),
}

_EN16931 = {RootKind.UBL_INVOICE: Stylesheet.EN16931_UBL,
            RootKind.UBL_CREDIT_NOTE: Stylesheet.EN16931_UBL,
            RootKind.CII_INVOICE: Stylesheet.EN16931_CII}
_BR_FR = {RootKind.UBL_INVOICE: Stylesheet.BR_FR_UBL,
          RootKind.UBL_CREDIT_NOTE: Stylesheet.BR_FR_UBL,
          RootKind.CII_INVOICE: Stylesheet.BR_FR_CII}


def stylesheets_for(
    kind: RootKind, br_fr: BrFrMode, profile_rules: Stylesheet | None = None
) -> tuple[Stylesheet, ...]:
    """The stylesheets that check a document of `kind`, in the order findings are reported:
    a Factur-X profile's own rules, EN 16931, then the French rules unless they are off."""
    sheets = [profile_rules] if profile_rules else []
    sheets.append(_EN16931[kind])
    if br_fr is not BrFrMode.OFF:
        sheets.append(_BR_FR[kind])
    return tuple(sheets)


def ruleset_path(relative: str) -> Path:
    with resources.as_file(resources.files("chorale_intake") / "rulesets" / relative) as path:
        return Path(path)


class _Saxon:
    """The process's Saxon processor and its compiled stylesheets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processor: Any = None
        self._compiler: Any = None
        self._executables: dict[Stylesheet, Any] = {}

    def _executable(self, sheet: Stylesheet) -> Any:
        executable = self._executables.get(sheet)
        if executable is None:
            if self._processor is None:
                from saxonche import PySaxonProcessor  # native library: loaded only when used

                self._processor = PySaxonProcessor(license=False)
                self._compiler = self._processor.new_xslt30_processor()
            path = ruleset_path(_FILES[sheet][0])
            executable = self._compiler.compile_stylesheet(stylesheet_file=str(path))
            self._executables[sheet] = executable
        return executable

    def compile(self, sheets: Iterable[Stylesheet]) -> None:
        with self._lock:
            for sheet in sheets:
                self._executable(sheet)

    def run(self, document: str, sheets: Sequence[Stylesheet]) -> list[tuple[Stylesheet, str]]:
        """The SVRL report of each stylesheet on `document` (XML text, parsed once)."""
        with self._lock:
            executables = [(sheet, self._executable(sheet)) for sheet in sheets]
            node = self._processor.parse_xml(xml_text=document)
            return [(sheet, executable.transform_to_string(xdm_node=node))
                    for sheet, executable in executables]


_SAXON = _Saxon()


def check(root: etree._Element, sheets: Sequence[Stylesheet]) -> list[Finding]:
    """Findings of `sheets` on the document `root` (already parsed safely: no DTD, no
    entities), in the order of `sheets`. Raises if Saxon fails (a technical failure)."""
    if not sheets:
        return []
    # Serialised from the safe tree rather than handed the raw bytes: whatever the encoding
    # declared, Saxon gets the very document the XSD accepted.
    document = etree.tostring(root, encoding="unicode")
    findings: list[Finding] = []
    for sheet, svrl in _SAXON.run(document, sheets):
        findings.extend(parse_svrl(svrl, _FILES[sheet][1], prefixes=PREFIXES))
    return findings


def warm_up(sheets: Iterable[Stylesheet] = tuple(Stylesheet)) -> None:
    """Compile `sheets` now (a worker's start) rather than on the first flows."""
    _SAXON.compile(sheets)
