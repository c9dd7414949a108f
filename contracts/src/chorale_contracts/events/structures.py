"""`chorale.structures.v1`: every change to a structure, its services, bank details,
attachments and requests. Key: the structure's `identifiant`."""

from datetime import date
from typing import Any, Literal

from chorale_contracts.events.common import StatutService, TypeIdentifiant, TypeStructure
from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class _StructureEvent(EventPayload):
    topic = Topic.STRUCTURES
    identifiant: str


@event
class StructureCreated(_StructureEvent):
    """A structure exists. For a private structure, `createdBy` becomes its GP."""

    event_type = "structure.created"
    typeIdentifiant: TypeIdentifiant
    typeStructure: TypeStructure
    raisonSociale: str
    createdBy: str | None = None
    origin: Literal["SELF_SERVICE", "IMPORT", "REQUEST"] = "SELF_SERVICE"


@event
class StructureUpdated(_StructureEvent):
    event_type = "structure.updated"
    changes: dict[str, Any]


@event
class StructureParametersChanged(_StructureEvent):
    event_type = "structure.parameters_changed"
    parameters: dict[str, Any]


@event
class StructureActivated(_StructureEvent):
    event_type = "structure.activated"


@event
class StructureDeactivated(_StructureEvent):
    event_type = "structure.deactivated"


class _ServiceEvent(_StructureEvent):
    codeService: str
    libelle: str
    statut: StatutService
    dateDebutActivation: date
    dateFinActivation: date | None = None
    numeroEJDoitEtreRenseigne: bool = False


@event
class ServiceCreated(_ServiceEvent):
    event_type = "structure.service_created"


@event
class ServiceUpdated(_ServiceEvent):
    event_type = "structure.service_updated"


@event
class ServiceActivated(_ServiceEvent):
    event_type = "structure.service_activated"


@event
class ServiceDeactivated(_ServiceEvent):
    event_type = "structure.service_deactivated"


class _BankDetailsEvent(_StructureEvent):
    bankDetailsId: str
    ibanMasked: str
    bic: str | None = None
    statut: Literal["ACTIF", "INACTIF"]


@event
class BankDetailsAdded(_BankDetailsEvent):
    event_type = "structure.bank_details_added"


@event
class BankDetailsUpdated(_BankDetailsEvent):
    event_type = "structure.bank_details_updated"


@event
class BankDetailsDeactivated(_BankDetailsEvent):
    event_type = "structure.bank_details_deactivated"


class _AttachmentEvent(_StructureEvent):
    attachmentId: str
    nom: str
    typeContenu: str
    taille: int
    sha256: str


@event
class AttachmentAdded(_AttachmentEvent):
    event_type = "structure.attachment_added"


@event
class AttachmentDeleted(_AttachmentEvent):
    event_type = "structure.attachment_deleted"


RequestKind = Literal["CREATION_STRUCTURE_PUBLIQUE", "DESACTIVATION_STRUCTURE"]


@event
class StructureRequestSubmitted(_StructureEvent):
    event_type = "structure.request_submitted"
    requestId: str
    kind: RequestKind
    requestedBy: str | None = None


@event
class StructureRequestDecided(_StructureEvent):
    event_type = "structure.request_decided"
    requestId: str
    kind: RequestKind
    decision: Literal["ACCEPTEE", "REFUSEE"]
    decidedBy: str | None = None
    commentaire: str | None = None
