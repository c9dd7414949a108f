"""What the notifications service listens to: four consumer groups.

- `structures`: names of created structures (the walking skeleton's read model);
- `read-models`: users, gestionnaires, grants, attachments and directory names;
- `notify`: the events that cause messages (DESIGN.md §6 "Notifications");
- `suivi-flux`: counters of flow status changes for the operators' dashboard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from chorale_contracts import Envelope, Topic
from chorale_contracts.events import directory, flows, habilitations, identity, invoices
from chorale_contracts.events.common import FlowStatus
from chorale_contracts.events.structures import StructureCreated
from chorale_notifications.adapters.flow_stats import FlowStats
from chorale_notifications.adapters.read_models import Organisation, People
from chorale_notifications.adapters.structure_directory import StructureDirectory
from chorale_notifications.service_layer.triggers import Triggers
from chorale_runtime.consumer import ReliableConsumer, Subscription
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


def read_model_subscription(people: People, org: Organisation) -> Subscription:
    async def registered(_e: Envelope, ev: identity.UserRegistered) -> None:
        await people.put(ev.userId, contactEmail=ev.contactEmail, prenom=ev.prenom, nom=ev.nom,
                         loginEmail=ev.loginEmail, active=True)

    async def profile(_e: Envelope, ev: identity.UserProfileUpdated) -> None:
        await people.put(ev.userId, contactEmail=ev.contactEmail, prenom=ev.prenom, nom=ev.nom)

    async def deactivated(_e: Envelope, ev: identity.UserDeactivated) -> None:
        await people.put(ev.userId, active=False)

    async def attached(_e: Envelope, ev: identity.RattachementApproved) -> None:
        await org.put_member(ev.structure, ev.rattachementId, ev.userId, ev.codeService, True)

    async def detached(_e: Envelope, ev: identity.RattachementDetached) -> None:
        await org.put_member(ev.structure, ev.rattachementId, ev.userId, ev.codeService, False)

    async def designated(_e: Envelope, ev: identity.GestionnaireDesignated) -> None:
        await org.set_gestionnaire(ev.structure, ev.userId)

    async def transferred(_e: Envelope, ev: identity.GestionnaireTransferred) -> None:
        await org.set_gestionnaire(ev.structure, ev.toUserId)

    async def grant(e: Envelope, ev: habilitations._GrantEvent) -> None:
        await org.put_grant(ev.grantId, ev.version, {
            "userId": ev.userId, "structure": ev.structure, "codeService": ev.codeService,
            "application": ev.application.value, "mode": ev.mode.value,
            "revoked": e.event_type == habilitations.HabilitationRevoked.event_type,
        })

    async def snapshot(_e: Envelope, ev: directory.DirectorySnapshot) -> None:
        await org.put_snapshot(ev.identifiant, ev.raisonSociale, ev.version)

    return Subscription(
        name="read-models",
        topics=(Topic.IDENTITY, Topic.HABILITATIONS, Topic.DIRECTORY),
        handlers={
            identity.UserRegistered.event_type: registered,
            identity.UserProfileUpdated.event_type: profile,
            identity.UserDeactivated.event_type: deactivated,
            identity.RattachementApproved.event_type: attached,
            identity.RattachementDetached.event_type: detached,
            identity.GestionnaireDesignated.event_type: designated,
            identity.GestionnaireTransferred.event_type: transferred,
            habilitations.HabilitationGranted.event_type: grant,
            habilitations.HabilitationChanged.event_type: grant,
            habilitations.HabilitationRevoked.event_type: grant,
            directory.DirectorySnapshot.event_type: snapshot,
        },
        description="Users, gestionnaires, grants, attachments and names: who to tell",
    )


def notify_subscription(t: Triggers) -> Subscription:
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
            identity.UserVerificationRequested.event_type: t.verification_requested,
            habilitations.HabilitationGranted.event_type: t.habilitation_changed,
            habilitations.HabilitationChanged.event_type: t.habilitation_changed,
            habilitations.HabilitationRevoked.event_type: t.habilitation_changed,
            flows.FlowStatusChanged.event_type: t.flow_status_changed,
            invoices.InvoiceMadeAvailable.event_type: t.invoice_made_available,
        },
        description="Events that cause a message: inbox entry and e-mail delivery",
    )


def suivi_subscription(stats: FlowStats) -> Subscription:
    async def counted(e: Envelope, ev: flows.FlowStatusChanged) -> None:
        codes = [err.code for err in ev.erreurs] if ev.statut is FlowStatus.IN_REJETE else []
        await stats.record(str(e.event_id), e.occurred_at, ev.structurePartenaire,
                           ev.statut.value, codes)

    return Subscription(
        name="suivi-flux",
        topics=(Topic.FLOWS,),
        handlers={flows.FlowStatusChanged.event_type: counted},
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
