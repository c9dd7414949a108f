"""What the habilitations service listens to: identity (rattachements, gestionnaires principaux,
deactivations → grants) and the directory (names for the listings)."""

from __future__ import annotations

from chorale_contracts import Envelope, Topic
from chorale_contracts.events import identity
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_habilitations.adapters.directory_store import DirectoryStore
from chorale_habilitations.service_layer.identity_events import IdentityEvents
from chorale_habilitations.service_layer.writer import Cause
from chorale_runtime.consumer import Subscription
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def _cause(envelope: Envelope) -> Cause:
    return Cause(envelope.correlation_id, str(envelope.event_id))


def identity_subscription(events: IdentityEvents) -> Subscription:
    async def approved(e: Envelope, ev: identity.RattachementApproved) -> None:
        n = await events.approved(ev.userId, ev.rattachementId, ev.structure, ev.codeService,
                                  ev.decidedBy, _cause(e))
        log.info("default_grants", user=ev.userId, structure=ev.structure,
                 code_service=ev.codeService, granted=n)

    async def detached(e: Envelope, ev: identity.RattachementDetached) -> None:
        n = await events.detached(ev.userId, ev.rattachementId, ev.structure, ev.codeService,
                                  ev.detachedBy, _cause(e))
        log.info("grants_ended", user=ev.userId, structure=ev.structure, revoked=n)

    async def designated(e: Envelope, ev: identity.GestionnaireDesignated) -> None:
        await events.gestionnaire_changed(ev.structure, ev.userId, ev.previousUserId,
                                          ev.designatedBy, _cause(e))

    async def transferred(e: Envelope, ev: identity.GestionnaireTransferred) -> None:
        await events.gestionnaire_changed(ev.structure, ev.toUserId, ev.fromUserId,
                                          ev.fromUserId, _cause(e))

    async def deactivated(e: Envelope, ev: identity.UserDeactivated) -> None:
        n = await events.deactivated(ev.userId, _cause(e))
        log.info("grants_ended", user=ev.userId, revoked=n, reason="user_deactivated")

    return Subscription(
        name="identity",
        topics=(Topic.IDENTITY,),
        handlers={
            identity.RattachementApproved.event_type: approved,
            identity.RattachementDetached.event_type: detached,
            identity.GestionnaireDesignated.event_type: designated,
            identity.GestionnaireTransferred.event_type: transferred,
            identity.UserDeactivated.event_type: deactivated,
        },
        description="Rattachements, gestionnaires principaux and deactivations → grants",
    )


def directory_subscription(directory: DirectoryStore) -> Subscription:
    async def snapshot(_e: Envelope, ev: DirectorySnapshot) -> None:
        await directory.put(ev)

    return Subscription(
        name="directory",
        topics=(Topic.DIRECTORY,),
        handlers={DirectorySnapshot.event_type: snapshot},
        description="Names of structures and services shown in the listings",
    )
