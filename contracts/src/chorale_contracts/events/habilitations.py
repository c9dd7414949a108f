"""`chorale.habilitations.v1`: every grant change, each carrying the whole grant so a consumer's
read model needs nothing else. Key: the grant's `userId`."""

from typing import Literal

from chorale_contracts.events.common import Application, Mode
from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic

GrantReason = Literal["DEFAULT", "GESTIONNAIRE_PRINCIPAL", "MANUAL", "RATTACHEMENT_ENDED"]


class _GrantEvent(EventPayload):
    topic = Topic.HABILITATIONS
    grantId: str
    userId: str
    structure: str
    codeService: str | None = None
    application: Application
    mode: Mode
    reason: GrantReason = "MANUAL"
    actor: str | None = None
    # Monotonic per grant, so a read model can drop stale updates.
    version: int = 1


@event
class HabilitationGranted(_GrantEvent):
    event_type = "habilitation.granted"


@event
class HabilitationChanged(_GrantEvent):
    event_type = "habilitation.changed"
    previousMode: Mode


@event
class HabilitationRevoked(_GrantEvent):
    event_type = "habilitation.revoked"
