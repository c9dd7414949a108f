"""What the notifications service listens to."""

from __future__ import annotations

from chorale_contracts import Envelope, Topic
from chorale_contracts.events.structures import StructureCreated
from chorale_notifications.adapters.structure_directory import StructureDirectory
from chorale_runtime.consumer import Subscription
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def structure_subscription(directory: StructureDirectory) -> Subscription:
    async def on_structure_created(envelope: Envelope, event: StructureCreated) -> None:
        recorded = await directory.record_created(
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
