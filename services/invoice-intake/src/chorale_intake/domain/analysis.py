"""The flow-level pipeline on raw bytes: safe parse → syntax → XSD → extraction → business
rules (EN 16931, BR-FR per the deployment's mode). A PDF is a Factur-X flow: its embedded CII
invoice goes through the same steps after the PDF's own checks and its profile's XSD and rules.

The service layer calls `analyse` first; if the analysis is accepted it looks the recipient up
in its read model of the directory and calls `rules.check_invoice` with `analysis.facts`; the
business-rule findings (`analysis.findings`, invoice-level) are reported with those errors.
"""

from __future__ import annotations

from lxml import etree
from pydantic import BaseModel, ConfigDict

from chorale_intake.domain import schematron
from chorale_intake.domain.business_rules import BrFrMode, apply_policy, to_errors
from chorale_intake.domain.errors import IntakeError, IntakeRejected, RuleCode, rule_error
from chorale_intake.domain.extraction import InvoiceFacts, extract
from chorale_intake.domain.facturx import Profile, check_profiles, looks_like_pdf, open_facturx
from chorale_intake.domain.fields import NS
from chorale_intake.domain.syntax import (
    RootKind,
    Syntax,
    check_declared,
    detect_root,
    detect_syntax,
    resolve_syntax,
)
from chorale_intake.domain.xml_safety import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_safely
from chorale_intake.domain.xsd import (
    MAX_XSD_ERRORS,
    schema_label,
    validate_facturx_xsd,
    validate_xsd,
)


class Analysis(BaseModel):
    """Outcome of the flow-level checks. `facts` is set only when the file is accepted."""

    model_config = ConfigDict(frozen=True)

    syntax: Syntax | None = None  # detected from the root element, when recognisable
    facts: InvoiceFacts | None = None
    errors: tuple[IntakeError, ...] = ()  # flow-level errors; empty when accepted
    # Invoice-level BUSINESS_RULE findings of an accepted file: `flag` fatal ones reject the
    # invoice, warnings are only reported.
    findings: tuple[IntakeError, ...] = ()
    profile: str | None = None  # Factur-X: the profile found (XMP and BT-24 agree)

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
    if looks_like_pdf(raw):
        return _analyse_facturx(raw, declared_syntax, max_bytes=max_bytes, max_depth=max_depth,
                                max_xsd_errors=max_xsd_errors, br_fr=br_fr)
    try:
        root = parse_safely(raw, max_bytes=max_bytes, max_depth=max_depth)
    except IntakeRejected as rejected:
        if _declares_facturx(declared_syntax) and rejected.error.code in _NOT_A_DOCUMENT:
            return Analysis(syntax=Syntax.IN_DP_E2_CII_FACTURX, errors=(rule_error(
                RuleCode.PDF_INVALID, detail="l'en-tête %PDF- est absent"),))
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


_NOT_A_DOCUMENT = {RuleCode.XML_MALFORMED, RuleCode.EMPTY_FILE}
_GUIDELINE = etree.XPath(
    "string(rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID)",
    namespaces=NS,
)


def _declares_facturx(declared: str | None) -> bool:
    return (declared or "").strip().upper() == Syntax.IN_DP_E2_CII_FACTURX.value


def _analyse_facturx(
    raw: bytes, declared_syntax: str | None, *, max_bytes: int, max_depth: int,
    max_xsd_errors: int, br_fr: BrFrMode,
) -> Analysis:
    """A PDF: its embedded CII invoice, checked against the profile the PDF and the invoice
    both declare, then exactly like a CII flow."""
    syntax = Syntax.IN_DP_E2_CII_FACTURX
    try:
        check_declared(declared_syntax, syntax)
        if len(raw) > max_bytes:
            raise IntakeRejected(rule_error(RuleCode.FILE_TOO_LARGE, size=len(raw),
                                            limit=max_bytes, value=str(len(raw))))
        embedded = open_facturx(raw, max_xml_bytes=max_bytes)
        root = parse_safely(embedded.xml, max_bytes=max_bytes, max_depth=max_depth)
        if detect_root(root) is not RootKind.CII_INVOICE:
            qname = etree.QName(root)
            raise IntakeRejected(rule_error(
                RuleCode.SYNTAX_UNKNOWN, value=qname.localname[:200],
                detail=f"le fichier joint {embedded.file_name} a pour racine "
                f"{qname.localname[:200]} (attendu : CrossIndustryInvoice CII)"))
        profile = check_profiles(embedded.conformance_level, _GUIDELINE(root))
    except IntakeRejected as rejected:
        return Analysis(syntax=syntax, errors=rejected.errors)

    extended = profile is Profile.EXTENDED
    xsd_errors = validate_facturx_xsd(root, extended, limit=max_xsd_errors)
    if xsd_errors:
        return Analysis(syntax=syntax, profile=profile.value, errors=tuple(xsd_errors))
    facts = extract(root, RootKind.CII_INVOICE)
    missing = _required_fields(facts, schema=f"Factur-X {profile.value}")
    if missing:
        return Analysis(syntax=syntax, profile=profile.value, errors=tuple(missing))
    # The profile's own rules: FNFE publishes them for EN 16931 and EXTENDED (and BASIC WL,
    # refused above). BASIC and XRechnung, subsets of EN 16931, get its XSD and EN 16931 rules.
    profile_rules = {Profile.EXTENDED: schematron.Stylesheet.FACTURX_EXTENDED,
                     Profile.EN16931: schematron.Stylesheet.FACTURX_EN16931}.get(profile)
    sheets = schematron.stylesheets_for(RootKind.CII_INVOICE, br_fr, profile_rules)
    findings = schematron.check(root, sheets)
    return Analysis(syntax=syntax, facts=facts, profile=profile.value,
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
