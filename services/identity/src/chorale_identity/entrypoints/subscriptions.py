"""What identity consumes: ``chorale.structures.v1``, for its read model of structures and
services and for the creator of a private structure becoming its GP."""

from __future__ import annotations

from typing import Any

from chorale_contracts import Envelope, Topic
from chorale_contracts.events import structures as s
from chorale_identity.service_layer.context import IdentityContext
from chorale_identity.service_layer.gestionnaires import creator_becomes_gp
from chorale_runtime.consumer import Subscription
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def structures_subscription(ctx: IdentityContext) -> Subscription:
    directory = ctx.structures

    async def created(envelope: Envelope, event: s.StructureCreated) -> None:
        await directory.record_structure(
            event.identifiant,
            event.raisonSociale,
            event.typeStructure.value,
            event.typeIdentifiant.value,
        )
        await creator_becomes_gp(ctx, envelope, event)
        log.info(
            "structure_known", structure=event.identifiant, type_structure=event.typeStructure.value
        )

    async def updated(_e: Envelope, event: s.StructureUpdated) -> None:
        if "raisonSociale" in event.changes:
            await directory.set_fields(
                event.identifiant, raisonSociale=str(event.changes["raisonSociale"])
            )

    async def activated(_e: Envelope, event: s.StructureActivated) -> None:
        await directory.set_fields(event.identifiant, statut="ACTIVE")

    async def deactivated(_e: Envelope, event: s.StructureDeactivated) -> None:
        await directory.set_fields(event.identifiant, statut="INACTIVE")

    async def service(_e: Envelope, event: Any) -> None:
        await directory.record_service(
            event.identifiant, event.codeService, event.libelle, event.statut.value
        )

    return Subscription(
        name="structures",
        topics=(Topic.STRUCTURES,),
        handlers={
            s.StructureCreated.event_type: created,
            s.StructureUpdated.event_type: updated,
            s.StructureActivated.event_type: activated,
            s.StructureDeactivated.event_type: deactivated,
            s.ServiceCreated.event_type: service,
            s.ServiceUpdated.event_type: service,
            s.ServiceActivated.event_type: service,
            s.ServiceDeactivated.event_type: service,
        },
        description="Structures and services known to identity; private creators become GP",
    )
