"""The events of a flow, built from its record: `flow.status_changed` on `chorale.flows.v1`
(keyed by flow number) for each status, `invoice.deposited` then `invoice.made_available` on
`chorale.invoices.v1` (keyed by invoice id) for an integrated invoice.

Each envelope is stored in the flow's own document (its outbox) by the same write as the state
it announces; re-publishing after a crash re-sends the same `event_id`s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chorale_contracts import Envelope, new_envelope
from chorale_contracts.events.common import FlowStatus
from chorale_contracts.events.flows import FlowError, FlowStatusChanged
from chorale_contracts.events.invoices import InvoiceDeposited, InvoiceMadeAvailable
from chorale_intake.domain.flow import Etape, FactureIntegree, Flow
from chorale_runtime.outbox import outbox_entry


def _errors(flow: Flow) -> list[FlowError]:
    return [
        *(
            FlowError(code=e.code, message=e.message, level="FLUX", ligne=e.ligne, chemin=e.chemin)
            for e in flow.listeErreurTechnique
        ),
        *(
            FlowError(code=e.code, message=e.message, level="FACTURE", ligne=e.ligne,
                      chemin=e.chemin)
            for e in flow.listeErreurDP
        ),
    ]


def _invoice_fields(flow: Flow) -> dict[str, Any]:
    """Recipient, service code and number, when the flow tells them."""
    if flow.factures:
        invoice = flow.factures[0]
        return {"destinataire": invoice.destinataire, "codeService": invoice.codeService,
                "numeroFacture": invoice.numeroFacture}
    if flow.listeErreurDP:
        first = flow.listeErreurDP[0]
        return {"destinataire": first.identifiantDestinataire, "codeService": first.codeService,
                "numeroFacture": first.numeroFacture}
    return {}


def status_changed(
    flow: Flow,
    step: Etape,
    previous: FlowStatus | None,
    *,
    producer: str,
    causation_id: str | None = None,
) -> Envelope:
    terminal = step.statut is flow.statut and flow.terminal
    payload = FlowStatusChanged(
        numeroFluxDepot=flow.number,
        statut=step.statut,
        statutPrecedent=previous,
        canal=flow.canal,
        technicalAccountId=flow.technicalAccountId,
        structurePartenaire=flow.structurePartenaire,
        nomFichier=flow.nomFichier,
        syntaxeFlux=flow.syntaxeFlux,
        dateDepot=flow.dateDepot,
        erreurs=_errors(flow) if terminal else [],
        tentative=flow.tentative,
        **(_invoice_fields(flow) if terminal else {}),
    )
    return new_envelope(
        payload,
        key=flow.number,
        producer=producer,
        correlation_id=flow.correlationId,
        causation_id=causation_id,
        occurred_at=step.date,
    )


def _invoice_event(
    cls: type[InvoiceDeposited] | type[InvoiceMadeAvailable],
    flow: Flow,
    invoice: FactureIntegree,
    statut: str,
    *,
    at: datetime,
    producer: str,
    causation_id: str,
) -> Envelope:
    payload = cls(
        invoiceId=invoice.invoiceId,
        numeroFluxDepot=flow.number,
        statut=statut,
        destinataire=invoice.destinataire,
        codeService=invoice.codeService,
        numeroEngagement=invoice.numeroEngagement,
        fournisseur=invoice.fournisseur,
        raisonSocialeFournisseur=invoice.raisonSocialeFournisseur,
        numeroFacture=invoice.numeroFacture,
        typeFacture=invoice.typeFacture,
        dateFacture=invoice.dateFacture,
        dateDepot=flow.dateDepot.date(),
        montantHT=invoice.montantHT,
        montantTVA=invoice.montantTVA,
        montantTTC=invoice.montantTTC,
        devise=invoice.devise,
    )
    return new_envelope(
        payload,
        key=invoice.invoiceId,
        producer=producer,
        correlation_id=flow.correlationId,
        causation_id=causation_id,
        occurred_at=at,
    )


def with_events(flow: Flow, steps: int, *, producer: str) -> Flow:
    """`flow` with the events of its last `steps` history steps (and, when it ends integrated,
    its invoice's) appended to its outbox."""
    history = flow.historique
    envelopes: list[Envelope] = []
    causation: str | None = None
    for index in range(len(history) - steps, len(history)):
        previous = history[index - 1].statut if index > 0 else None
        envelope = status_changed(
            flow, history[index], previous, producer=producer, causation_id=causation
        )
        envelopes.append(envelope)
        causation = str(envelope.event_id)
    if flow.statut is FlowStatus.IN_INTEGRE and causation is not None:
        for invoice in flow.factures:
            deposited = _invoice_event(
                InvoiceDeposited, flow, invoice, "DEPOSEE",
                at=flow.dateStatut, producer=producer, causation_id=causation,
            )
            available = _invoice_event(
                InvoiceMadeAvailable, flow, invoice, "MISE_A_DISPOSITION",
                at=flow.dateStatut, producer=producer, causation_id=str(deposited.event_id),
            )
            envelopes += [deposited, available]
    entries = tuple(outbox_entry(e) for e in envelopes)
    return flow.model_copy(update={"events": (*flow.events, *entries)})
