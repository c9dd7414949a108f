"""Use cases: an invoice enters the store from the intake's events, then moves through the
recipient's and the supplier's actions. Each change is one compare-and-set write of the
invoice document with its `invoice.status_changed` events (outbox), then the list index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from chorale_contracts import Envelope
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_invoices.adapters.directory_store import DirectoryStore
from chorale_invoices.adapters.invoice_store import InvoiceStore
from chorale_invoices.adapters.list_index import ListIndex, row_of
from chorale_invoices.domain.errors import InvoiceError, invoice_not_found, version_conflict
from chorale_invoices.domain.events import envelopes
from chorale_invoices.domain.invoice import Etape, Invoice, PieceJointe
from chorale_invoices.domain.routing import check_routing
from chorale_invoices.domain.statuses import Action, Actor, Status
from chorale_invoices.metrics import INDEXED_INVOICES, STATUS_CHANGES

Clock = Callable[[], datetime]


def _money(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class Request:
    """One person's action on one invoice."""

    action: Action
    actor: Actor
    user_id: str
    expected_version: int | None = None
    motif: str | None = None
    comment: str | None = None
    code_service: str | None = None
    engagement: str | None = None
    pieces: tuple[PieceJointe, ...] = ()
    correlation_id: str | None = None


class Lifecycle:
    def __init__(self, store: InvoiceStore, directory: DirectoryStore, index: ListIndex, *,
                 producer: str, clock: Clock = lambda: datetime.now(UTC)):
        self._store = store
        self._directory = directory
        self._index = index
        self._producer = producer
        self._clock = clock

    async def _events(self, invoice: Invoice, first: int, correlation_id: str | None,
                      causation_id: str | None) -> list[Envelope]:
        return envelopes(
            invoice, first, hide_payment=await self._directory.hides_payment(invoice.destinataire),
            recipient_name=await self._directory.name(invoice.destinataire),
            producer=self._producer, correlation_id=correlation_id, causation_id=causation_id)

    # -- from the intake ----------------------------------------------------------------------
    async def made_available(self, env: Envelope, ev: InvoiceMadeAvailable) -> None:
        """The invoice enters the store with its two first steps, DEPOSEE and
        MISE_A_DISPOSITION (the intake publishes `invoice.deposited` and
        `invoice.made_available` together for an integrated invoice: one insert serves both).
        Idempotent: a replayed event finds the invoice there and changes nothing."""
        at = env.occurred_at
        steps = (Etape(statut=Status.DEPOSEE, date=at, typeAuteur=Actor.PLATFORM),
                 Etape(statut=Status.MISE_A_DISPOSITION, date=at, typeAuteur=Actor.PLATFORM))
        invoice = Invoice(
            invoiceId=ev.invoiceId, numeroFluxDepot=ev.numeroFluxDepot,
            numeroFacture=ev.numeroFacture, typeFacture=ev.typeFacture,
            dateFacture=ev.dateFacture.isoformat(), dateDepot=ev.dateDepot.isoformat(),
            destinataire=ev.destinataire, codeService=ev.codeService,
            numeroEngagement=ev.numeroEngagement, fournisseur=ev.fournisseur,
            raisonSocialeFournisseur=ev.raisonSocialeFournisseur,
            montantHT=_money(ev.montantHT), montantTVA=_money(ev.montantTVA),
            montantTTC=_money(ev.montantTTC), devise=ev.devise,
            technicalAccountId=ev.technicalAccountId, canal=ev.canal,
            statut=Status.MISE_A_DISPOSITION, dateStatut=at, version=len(steps),
            historique=steps)
        events = await self._events(invoice, 0, env.correlation_id, str(env.event_id))
        if await self._store.insert(invoice, events):
            self._index.put(row_of(invoice))
            STATUS_CHANGES.labels(self._producer, "PLATEFORME").inc(len(steps))
            INDEXED_INVOICES.labels(self._producer).set(len(self._index))

    # -- people's actions ---------------------------------------------------------------------
    async def get(self, invoice_id: str) -> Invoice:
        invoice = await self._store.get(invoice_id)
        if invoice is None:
            raise invoice_not_found(invoice_id)
        return invoice

    async def act(self, invoice: Invoice, request: Request) -> Invoice:
        """Apply `request` to `invoice` (as the caller read it, already authorized)."""
        if request.expected_version is not None and request.expected_version != invoice.version:
            raise version_conflict(request.expected_version, invoice.version)
        code_service, engagement = request.code_service, request.engagement
        if request.action is Action.READRESSER:
            if code_service is None and engagement is None:
                raise InvoiceError("ROUTING_REQUIRED", "Indiquez le nouveau code service ou le "
                                   "nouveau numéro d'engagement.")
            # What the supplier does not give is kept.
            code_service = code_service or invoice.codeService
            engagement = engagement or invoice.numeroEngagement
        changed = invoice.act(
            request.action, request.actor, by=request.user_id, at=self._clock(),
            motif=request.motif, comment=request.comment, code_service=code_service,
            engagement=engagement, pieces=request.pieces)
        if request.action is Action.READRESSER:  # allowed now: check the new routing
            check_routing(await self._directory.get(invoice.destinataire), code_service,
                          engagement, date.fromisoformat(invoice.dateFacture))
        events = await self._events(changed, len(invoice.historique), request.correlation_id,
                                    None)
        if not await self._store.replace(changed, invoice.version, events):
            current = await self.get(invoice.invoiceId)
            raise version_conflict(invoice.version, current.version)
        self._index.put(row_of(changed))
        STATUS_CHANGES.labels(self._producer, request.actor.value).inc()
        return changed
