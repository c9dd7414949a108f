"""From the analysis of a file to the terminal state of its flow (pure).

`judge` applies the invoice-level rules to an accepted analysis; `conclude` turns a flow waiting
for processing into its terminal record (IN_INTEGRE or IN_REJETE, with the history step
IN_EN_COURS_TRAITEMENT); `incident` records a technical failure (IN_INCIDENTE).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from chorale_contracts.events.common import FlowStatus, Syntax
from chorale_intake.domain.analysis import Analysis
from chorale_intake.domain.business_rules import FATAL
from chorale_intake.domain.directory import RecipientEntry
from chorale_intake.domain.errors import ErrorLevel, IntakeError
from chorale_intake.domain.extraction import InvoiceFacts
from chorale_intake.domain.flow import ErreurDP, ErreurTechnique, Etape, FactureIntegree, Flow
from chorale_intake.domain.rules import check_invoice, duplicate_error, in_rule_order

TECHNICAL_ERROR_CODE = "INCIDENT_TECHNIQUE"


@dataclass(frozen=True)
class Verdict:
    """What the rules say about one file."""

    syntax: Syntax | None
    facts: InvoiceFacts | None
    errors: tuple[IntakeError, ...]
    warnings: tuple[IntakeError, ...] = ()  # business-rule warnings: reported, never reject
    profile: str | None = None  # Factur-X profile

    @property
    def accepted(self) -> bool:
        return self.facts is not None and not self.errors

    @property
    def status(self) -> FlowStatus:
        return FlowStatus.IN_INTEGRE if self.accepted else FlowStatus.IN_REJETE

    def duplicate(self) -> Verdict:
        """The same verdict once the invoice is known to be a duplicate: what `judge` says
        with `is_duplicate=True` (the error in its rule's place), without judging again."""
        if self.facts is None:
            return self  # flow-level errors: no invoice, no duplicate
        errors = in_rule_order((*self.errors, duplicate_error(self.facts)))
        return replace(self, errors=tuple(errors))


def judge(
    analysis: Analysis,
    *,
    partner: str,
    recipient: RecipientEntry | None,
    partner_is_public: bool,
    today: date,
    is_duplicate: bool = False,
) -> Verdict:
    """Flow-level errors of the analysis, else every invoice-level error of its facts: the
    recipient's rules, then the fatal business-rule findings (the supplier sees everything
    wrong at once); business-rule warnings apart."""
    if not analysis.accepted or analysis.facts is None:
        return Verdict(analysis.syntax, analysis.facts, analysis.errors,
                       profile=analysis.profile)
    errors = check_invoice(
        analysis.facts,
        partner_identifier=partner,
        recipient=recipient,
        today=today,
        is_duplicate=is_duplicate,
        partner_is_public=partner_is_public,
    )
    fatal = [f for f in analysis.findings if f.flag == FATAL]
    warnings = tuple(f for f in analysis.findings if f.flag != FATAL)
    return Verdict(analysis.syntax, analysis.facts, (*errors, *fatal), warnings,
                   analysis.profile)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def invoice_of(facts: InvoiceFacts, invoice_id: str) -> FactureIntegree:
    """The integrated invoice (an accepted verdict has number, date, buyer and supplier)."""
    assert facts.number and facts.issue_date and facts.buyer_identifier
    assert facts.supplier_identifier
    return FactureIntegree(
        invoiceId=invoice_id,
        numeroFacture=facts.number,
        typeFacture=facts.type_code,
        dateFacture=facts.issue_date.isoformat(),
        fournisseur=facts.supplier_identifier,
        raisonSocialeFournisseur=facts.supplier_name,
        destinataire=facts.buyer_identifier,
        codeService=facts.service_code,
        numeroEngagement=facts.engagement,
        montantHT=_text(facts.total_without_tax),
        montantTVA=_text(facts.tax_total),
        montantTTC=_text(facts.total_with_tax),
        devise=facts.currency,
    )


def _invoice_error(error: IntakeError, facts: InvoiceFacts) -> ErreurDP:
    return ErreurDP.of(
        error,
        numeroFacture=facts.number,
        identifiantFournisseur=facts.supplier_identifier,
        identifiantDestinataire=facts.buyer_identifier,
        codeService=facts.service_code,
    )


def _split(verdict: Verdict) -> tuple[list[ErreurTechnique], list[ErreurDP], list[ErreurDP]]:
    facts = verdict.facts
    flow_errors: list[ErreurTechnique] = []
    invoice_errors: list[ErreurDP] = []
    for error in verdict.errors:
        if error.level is ErrorLevel.FLOW or facts is None:
            flow_errors.append(ErreurTechnique.of(error))
        else:
            invoice_errors.append(_invoice_error(error, facts))
    warnings = [_invoice_error(w, facts) for w in verdict.warnings] if facts else []
    return flow_errors, invoice_errors, warnings


def _ended(flow: Flow, status: FlowStatus, started: datetime, finished: datetime) -> list[Etape]:
    return [
        *flow.historique,
        Etape(statut=FlowStatus.IN_EN_COURS_TRAITEMENT, date=started),
        Etape(statut=status, date=finished),
    ]


def conclude(
    flow: Flow,
    verdict: Verdict,
    *,
    started: datetime,
    finished: datetime,
    invoice_id: str | None = None,
    duplicate_key: str | None = None,
) -> Flow:
    """The terminal record of `flow` (waiting for processing) after `verdict`."""
    status = verdict.status
    flow_errors, invoice_errors, warnings = _split(verdict)
    invoices: tuple[FactureIntegree, ...] = ()
    if status is FlowStatus.IN_INTEGRE:
        assert verdict.facts is not None and invoice_id is not None
        invoices = (invoice_of(verdict.facts, invoice_id),)
    return flow.model_copy(
        update={
            "statut": status,
            "dateStatut": finished,
            "syntaxeFlux": verdict.syntax,
            "profilFacturX": verdict.profile,
            "historique": tuple(_ended(flow, status, started, finished)),
            "listeErreurTechnique": tuple(flow_errors),
            "listeErreurDP": tuple(invoice_errors),
            "listeAvertissementDP": tuple(warnings),
            "factures": invoices,
            "cleDoublon": duplicate_key if status is FlowStatus.IN_INTEGRE else None,
            "events": (),
        }
    )


def incident(flow: Flow, reason: str, *, started: datetime, finished: datetime) -> Flow:
    """The flow could not be processed (technical failure, retries exhausted)."""
    error = ErreurTechnique(
        code=TECHNICAL_ERROR_CODE,
        message="Le flux n'a pas pu être traité à la suite d'une erreur technique ; un "
        f"opérateur peut le relancer. Détail : {reason[:500]}",
    )
    status = FlowStatus.IN_INCIDENTE
    return flow.model_copy(
        update={
            "statut": status,
            "dateStatut": finished,
            "historique": tuple(_ended(flow, status, started, finished)),
            "listeErreurTechnique": (error,),
            "listeErreurDP": (),
            "listeAvertissementDP": (),
            "factures": (),
            "events": (),
        }
    )


def waiting_again(flow: Flow, *, at: datetime, owner: str) -> Flow:
    """An IN_INCIDENTE flow re-run by an operator: back to IN_EN_ATTENTE_TRAITEMENT."""
    status = FlowStatus.IN_EN_ATTENTE_TRAITEMENT
    return flow.model_copy(
        update={
            "statut": status,
            "dateStatut": at,
            "tentative": flow.tentative + 1,
            "historique": (*flow.historique, Etape(statut=status, date=at)),
            "listeErreurTechnique": (),
            "listeErreurDP": (),
            "listeAvertissementDP": (),
            "factures": (),
            "owner": owner,
            "recoveries": 0,
            "events": (),
        }
    )
