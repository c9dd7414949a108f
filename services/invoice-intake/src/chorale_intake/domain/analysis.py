"""The flow-level pipeline on raw bytes: safe parse → syntax → XSD → extraction → business
rules (EN 16931, BR-FR per the deployment's mode).

The service layer calls `analyse` first; if the analysis is accepted it looks the recipient up
in its read model of the directory and calls `rules.check_invoice` with `analysis.facts`; the
business-rule findings (`analysis.findings`, invoice-level) are reported with those errors.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from chorale_intake.domain import schematron
from chorale_intake.domain.business_rules import BrFrMode, apply_policy, to_errors
from chorale_intake.domain.errors import IntakeError, IntakeRejected, RuleCode, rule_error
from chorale_intake.domain.extraction import InvoiceFacts, extract
from chorale_intake.domain.syntax import Syntax, detect_root, detect_syntax, resolve_syntax
from chorale_intake.domain.xml_safety import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_safely
from chorale_intake.domain.xsd import MAX_XSD_ERRORS, schema_label, validate_xsd


class Analysis(BaseModel):
    """Outcome of the flow-level checks. `facts` is set only when the file is accepted."""

    model_config = ConfigDict(frozen=True)

    syntax: Syntax | None = None  # detected from the root element, when recognisable
    facts: InvoiceFacts | None = None
    errors: tuple[IntakeError, ...] = ()  # flow-level errors; empty when accepted
    # Invoice-level BUSINESS_RULE findings of an accepted file: `flag` fatal ones reject the
    # invoice, warnings are only reported.
    findings: tuple[IntakeError, ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.errors and self.facts is not None


def analyse(
    raw: bytes,
    declared_syntax: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_xsd_errors: int = MAX_XSD_ERRORS,
    br_fr: BrFrMode = BrFrMode.WARNING,
) -> Analysis:
    """Check one deposited file. Never raises for bad content: errors are in the result (it
    raises when a validator itself fails: a technical failure, retried)."""
    try:
        root = parse_safely(raw, max_bytes=max_bytes, max_depth=max_depth)
    except IntakeRejected as rejected:
        return Analysis(errors=rejected.errors)
    try:
        syntax = resolve_syntax(root, declared_syntax)
    except IntakeRejected as rejected:
        return Analysis(syntax=detect_syntax(root), errors=rejected.errors)

    kind = detect_root(root)
    assert kind is not None  # resolve_syntax rejected every other root
    xsd_errors = validate_xsd(root, kind, limit=max_xsd_errors)
    if xsd_errors:
        return Analysis(syntax=syntax, errors=tuple(xsd_errors))

    facts = extract(root, kind)
    missing = _required_fields(facts, schema=schema_label(kind))
    if missing:
        return Analysis(syntax=syntax, errors=tuple(missing))
    findings = schematron.check(root, schematron.stylesheets_for(kind, br_fr))
    return Analysis(syntax=syntax, facts=facts,
                    findings=tuple(to_errors(apply_policy(findings, br_fr))))


def _required_fields(facts: InvoiceFacts, *, schema: str) -> list[IntakeError]:
    """Values the schemas allow to be blank or free-form but the intake cannot do without.
    They are reported as XSD_INVALID: the profile of the syntax is not respected."""
    errors = []
    if facts.number is None:
        errors.append(
            rule_error(
                RuleCode.XSD_INVALID,
                path=facts.paths.display("number"),
                schema=schema,
                detail="le numéro de facture est vide",
            )
        )
    if facts.issue_date is None:
        cii = facts.syntax is Syntax.IN_DP_E1_CII_16B
        expected = "AAAAMMJJ (format 102)" if cii else "AAAA-MM-JJ"
        errors.append(
            rule_error(
                RuleCode.XSD_INVALID,
                path=facts.paths.display("issue_date"),
                value=facts.issue_date_text,
                schema=schema,
                detail=f"la date d'émission « {facts.issue_date_text or ''} » est absente ou "
                f"illisible (attendu : {expected})",
            )
        )
    return errors
