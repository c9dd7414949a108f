"""What the notifications service listens to: five consumer groups.

- `structures`: names of created structures (the walking skeleton's read model);
- `read-models`: users, gestionnaires, grants, attachments and directory names;
- `notify`: the events that cause messages (DESIGN.md §6 "Notifications"), bulk notices
  (flows rejected, invoices made available) a batch at a time;
- `account-mails`: address confirmation and password reset, in a group of their own;
- `suivi-flux`: counters of flow status changes for the operators' dashboard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from chorale_contracts import Envelope, Topic
from chorale_contracts.events import (
    directory,
    flows,
    habilitations,
    identity,
    invoice_status,
    invoices,
)
from chorale_contracts.events.common import FlowStatus
from chorale_contracts.events.structures import StructureCreated
from chorale_notifications.adapters.flow_stats import FlowStats
from chorale_notifications.adapters.read_models import Organisation, People, apply_changes
from chorale_notifications.adapters.structure_directory import StructureDirectory
from chorale_notifications.domain.read_model_changes import ReadModelChanges
from chorale_notifications.domain.stats import CountedChange
from chorale_notifications.service_layer.bulk_notices import BulkNotices
from chorale_notifications.service_layer.triggers import Triggers
from chorale_runtime.consumer import Incoming, ReliableConsumer, Subscription
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def structure_subscription(directory_: StructureDirectory) -> Subscription:
    async def on_structure_created(envelope: Envelope, event: StructureCreated) -> None:
        recorded = await directory_.record_created(
            event.identifiant,
            event.raisonSociale,
            event.typeStructure.value,
            str(envelope.event_id),
            envelope.occurred_at,
        )
        log.info("structure_recorded", identifiant=event.identifiant, new=recorded)

    return Subscription(
        name="structures",
        topics=(Topic.STRUCTURES,),
        handlers={StructureCreated.event_type: on_structure_created},
        description="Structures known to notifications (names in messages)",
    )


def fold_read_model_events(events: Sequence[Incoming]) -> ReadModelChanges:
    """A batch of identity, habilitation and directory events → one change per document."""
    changes = ReadModelChanges()
    for item in events:
        e, ev = item.envelope, item.payload
        match ev:
            case identity.UserRegistered():
                changes.put_user(ev.userId, contactEmail=ev.contactEmail, prenom=ev.prenom,
                                 nom=ev.nom, loginEmail=ev.loginEmail, active=True)
            case identity.UserProfileUpdated():
                changes.put_user(ev.userId, contactEmail=ev.contactEmail, prenom=ev.prenom,
                                 nom=ev.nom)
            case identity.UserDeactivated():
                changes.put_user(ev.userId, active=False)
            case identity.RattachementApproved() | identity.RattachementDetached():
                active = isinstance(ev, identity.RattachementApproved)
                changes.structure(ev.structure).values[f"members.{ev.rattachementId}"] = {
                    "userId": ev.userId, "codeService": ev.codeService, "active": active}
            case identity.GestionnaireDesignated():
                changes.structure(ev.structure).values["gp"] = ev.userId
            case identity.GestionnaireTransferred():
                changes.structure(ev.structure).values["gp"] = ev.toUserId
            case habilitations._GrantEvent():
                changes.structure(ev.structure).put_grant(ev.grantId, ev.version, {
                    "userId": ev.userId, "structure": ev.structure,
                    "codeService": ev.codeService, "application": ev.application.value,
                    "mode": ev.mode.value,
                    "revoked": e.event_type == habilitations.HabilitationRevoked.event_type,
                })
            case directory.DirectorySnapshot():
                changes.structure(ev.identifiant).put_snapshot(ev.raisonSociale, ev.version)
    return changes


READ_MODEL_EVENTS = (
    identity.UserRegistered, identity.UserProfileUpdated, identity.UserDeactivated,
    identity.RattachementApproved, identity.RattachementDetached,
    identity.GestionnaireDesignated, identity.GestionnaireTransferred,
    habilitations.HabilitationGranted, habilitations.HabilitationChanged,
    habilitations.HabilitationRevoked, directory.DirectorySnapshot,
)


def read_model_subscription(people: People, org: Organisation) -> Subscription:
    async def fold(events: Sequence[Incoming]) -> None:
        await apply_changes(people, org, fold_read_model_events(events))

    return Subscription(
        name="read-models",
        topics=(Topic.IDENTITY, Topic.HABILITATIONS, Topic.DIRECTORY),
        batch_handlers={cls.event_type: fold for cls in READ_MODEL_EVENTS},
        description="Users, gestionnaires, grants, attachments and names: who to tell",
    )


def notify_subscription(t: Triggers, bulk: BulkNotices) -> Subscription:
    return Subscription(
        name="notify",
        topics=(Topic.IDENTITY, Topic.HABILITATIONS, Topic.FLOWS, Topic.INVOICES),
        handlers={
            identity.RattachementRequested.event_type: t.rattachement_requested,
            identity.RattachementInvited.event_type: t.rattachement_invited,
            identity.RattachementApproved.event_type: t.rattachement_decided,
            identity.RattachementRefused.event_type: t.rattachement_decided,
            identity.GestionnaireTransferred.event_type: t.gestionnaire_transferred,
            identity.GestionnaireDesignated.event_type: t.gestionnaire_designated,
            habilitations.HabilitationGranted.event_type: t.habilitation_changed,
            habilitations.HabilitationChanged.event_type: t.habilitation_changed,
            habilitations.HabilitationRevoked.event_type: t.habilitation_changed,
        },
        batch_handlers={
            flows.FlowStatusChanged.event_type: bulk.handle,
            invoices.InvoiceMadeAvailable.event_type: bulk.handle,
        },
        wants=_not_an_ordinary_flow_status,
        description="Events that cause a message: inbox entry and e-mail delivery",
    )


def _not_an_ordinary_flow_status(envelope: Envelope) -> bool:
    """Of a flow's status changes only the rejection causes a message."""
    return envelope.event_type != flows.FlowStatusChanged.event_type or \
        envelope.payload.get("statut") == FlowStatus.IN_REJETE.value


def account_mail_subscription(t: Triggers) -> Subscription:
    """Account-security mails (address confirmation, password reset) have their own group:
    they never wait behind a backlog of bulk flow and invoice events."""
    return Subscription(
        name="account-mails",
        topics=(Topic.IDENTITY,),
        handlers={identity.UserVerificationRequested.event_type: t.verification_requested},
        description="Address confirmation and password reset mails, ahead of everything else",
    )


def invoice_status_subscription(t: Triggers) -> Subscription:
    """Apart from `notify`: every invoice's every status passes here (most tell nobody), and
    they must not queue ahead of the other messages."""
    return Subscription(
        name="invoice-status",
        topics=(Topic.INVOICE_STATUS,),
        handlers={invoice_status.InvoiceStatusChanged.event_type: t.invoice_status_changed},
        description="Invoice statuses: the supplier (suspension, rejection, à recycler, "
                    "payment) and the recipient's agents (completion)",
    )


def suivi_subscription(stats: FlowStats) -> Subscription:
    async def counted(events: Sequence[Incoming]) -> None:
        await stats.record([
            CountedChange(
                i.envelope.occurred_at, i.payload.structurePartenaire, i.payload.statut.value,
                tuple(err.code for err in i.payload.erreurs)
                if i.payload.statut is FlowStatus.IN_REJETE else (),
                i.source, i.offset,
            )
            for i in events
        ])

    return Subscription(
        name="suivi-flux",
        topics=(Topic.FLOWS,),
        batch_handlers={flows.FlowStatusChanged.event_type: counted},
        description="Suivi des flux: status changes per hour, partner and rejection code",
    )


class ReadModelsUnavailable(Exception):
    """The service is stopping: the triggering event is left for the next run."""


def caught_up_barrier(
    consumers: Sequence[ReliableConsumer], timeout: float, stopping: asyncio.Event
) -> Callable[[datetime], Awaitable[None]]:
    """Waits (at most `timeout`) until the read-model consumers have consumed everything
    published before the triggering event, so recipients reflect the events that preceded it.

    Asking the broker for end offsets costs up to a fetch wait (~0.5 s), so a check that passed
    is remembered: a trigger that occurred before that check began needs no new one (a burst
    pays once). Producers' clocks are assumed roughly in step with ours. Once the service is
    stopping, the read-model consumers may be closed under us: the handler gives up (the
    consumer then leaves the event uncommitted, to be handled after the restart)."""
    passed_at: list[datetime] = []

    async def wait(occurred_at: datetime) -> None:
        if passed_at and occurred_at <= passed_at[0]:
            return
        deadline = time.monotonic() + timeout
        while True:
            if stopping.is_set():
                raise ReadModelsUnavailable("service stopping")
            checked_at = datetime.now(UTC)
            try:
                async with asyncio.timeout(3):
                    lags = [await c.lag() for c in consumers]
            except TimeoutError:
                lags = [None]
            if all(lag is not None and not any(lag.values()) for lag in lags):
                passed_at[:] = [checked_at]
                return
            if time.monotonic() >= deadline:
                log.warning("read_models_lagging", lags=lags)
                return
            await asyncio.sleep(0.05)

    return wait
