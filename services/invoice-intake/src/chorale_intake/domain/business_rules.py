"""Business rules (EN 16931, French BR-FR, Factur-X profiles): from the SVRL report of an
official schematron to the intake's findings, and the deployment's policy for the French rules.

Pure: `schematron.py` runs the compiled XSLT 2.0 artefacts (Saxon) and hands their SVRL here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

from lxml import etree
from pydantic import BaseModel, ConfigDict

from chorale_intake.domain.errors import IntakeError, RuleCode, rule_error

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
_FIRED = (f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report")
_TEXT = f"{{{SVRL_NS}}}text"

FATAL = "fatal"
WARNING = "warning"


class RuleSet(StrEnum):
    """Who wrote the rule: decides the policy that applies to its findings."""

    EN16931 = "EN16931"
    BR_FR = "BR-FR"
    FACTURX = "FACTUR-X"


class BrFrMode(StrEnum):
    """What a deployment does with the French rules (`CHORALE_BR_FR_MODE`)."""

    OFF = "off"  # not run at all
    WARNING = "warning"  # run, every finding reported as a warning: never rejects
    FATAL = "fatal"  # run, findings keep the flag of the official artefact


class Finding(BaseModel):
    """One rule that fired on a document: a failed assert (or a successful report)."""

    model_config = ConfigDict(frozen=True)

    rule: str  # e.g. "BR-CO-10", "BR-FR-05_BT-22_PMT"
    flag: str  # "fatal" or "warning" ("information" is possible, treated as a warning)
    location: str  # XPath of the node the rule was checked on
    text: str
    ruleset: RuleSet

    @property
    def fatal(self) -> bool:
        return self.flag == FATAL


_BLANKS = re.compile(r"\s+")
_BRACKETED_ID = re.compile(r"^\[([A-Za-z0-9._/-]+)\]")
# Saxon writes locations namespace-safe: /*:Invoice[namespace-uri()='urn:…Invoice-2'][1]/…
_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")


def shorten_location(location: str, prefixes: dict[str, str]) -> str:
    """`/*:Invoice[namespace-uri()='…Invoice-2'][1]/*:ID[namespace-uri()='…CBC-2'][1]` →
    `/Invoice[1]/cbc:ID[1]` with the usual prefixes (unknown namespaces are left as written)."""

    def step(match: re.Match[str]) -> str:
        prefix = prefixes.get(match.group(2))
        if prefix is None:
            return match.group(0)
        return f"{prefix}:{match.group(1)}" if prefix else match.group(1)

    return _STEP.sub(step, location)


def parse_svrl(
    svrl: str | bytes, ruleset: RuleSet, *, prefixes: dict[str, str] | None = None
) -> list[Finding]:
    """Every failed assert and successful report of an SVRL document, in document order. A flag
    the artefact left out counts as fatal: a rule is meant to hold unless it says otherwise."""
    raw = svrl.encode() if isinstance(svrl, str) else svrl
    if b"failed-assert" not in raw and b"successful-report" not in raw:
        return []  # the common case, without building a tree of every rule that ran
    root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True,
                                                 huge_tree=True))
    findings = []
    for node in root.iter(*_FIRED):
        text = _BLANKS.sub(" ", node.findtext(_TEXT) or "").strip()
        location = node.get("location") or ""
        # Some artefacts (Factur-X EXTENDED) leave @id out and start the text with "[ID]".
        bracketed = _BRACKETED_ID.match(text)
        findings.append(
            Finding(
                rule=(node.get("id") or "").strip() or (bracketed.group(1) if bracketed else "?"),
                flag=(node.get("flag") or FATAL).strip().lower(),
                location=shorten_location(location, prefixes) if prefixes else location,
                text=text,
                ruleset=ruleset,
            )
        )
    return findings


def apply_policy(findings: Iterable[Finding], br_fr: BrFrMode) -> list[Finding]:
    """The findings as this deployment reports them: French ones dropped (off), downgraded to
    warnings (warning), or kept as the artefact flagged them (fatal). Others are unchanged."""
    kept = []
    for finding in findings:
        if finding.ruleset is RuleSet.BR_FR:
            if br_fr is BrFrMode.OFF:
                continue
            if br_fr is BrFrMode.WARNING and finding.flag != WARNING:
                finding = finding.model_copy(update={"flag": WARNING})
        kept.append(finding)
    return kept


_FLAG_LABELS = {FATAL: "bloquante", WARNING: "avertissement"}


def to_errors(findings: Sequence[Finding]) -> list[IntakeError]:
    """Each finding as one invoice-level `BUSINESS_RULE` error (its rule id in `rule`)."""
    return [
        rule_error(
            RuleCode.BUSINESS_RULE,
            path=finding.location or None,
            rule=finding.rule,
            flag=finding.flag,
            ruleset=finding.ruleset.value,
            severity=_FLAG_LABELS.get(finding.flag, finding.flag),
            text=finding.text,
        )
        for finding in findings
    ]


def rejects(errors: Iterable[IntakeError]) -> bool:
    return any(error.flag == FATAL for error in errors)
