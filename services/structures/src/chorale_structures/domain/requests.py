"""Structure requests an operator decides: creating a public structure, deactivating one.

State machine: ``EN_ATTENTE`` -> ``ACCEPTEE`` | ``REFUSEE``, once (REQUEST_ALREADY_DECIDED
afterwards). A refusal must say why (``commentaireOperateur`` required) since the requester
reads it; an acceptance may carry a comment. The proposed structure of a creation request is
validated when the request is submitted, so an operator never approves data that cannot
become a structure. Accepting does not itself create or deactivate anything: the service layer
then calls :func:`structure_from_request` or ``structures.deactivate`` and stores both changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from chorale_contracts.events.structures import (
    StructureRequestDecided,
    StructureRequestSubmitted,
)

from .errors import DomainError, ErrorCode, field_error
from .events import Outcome
from .fields import Text
from .structures import PublicStructureCreated, Structure, new_public_structure


class TypeDemande(StrEnum):
    CREATION_STRUCTURE_PUBLIQUE = "CREATION_STRUCTURE_PUBLIQUE"
    DESACTIVATION_STRUCTURE = "DESACTIVATION_STRUCTURE"


class StatutDemande(StrEnum):
    EN_ATTENTE = "EN_ATTENTE"
    ACCEPTEE = "ACCEPTEE"
    REFUSEE = "REFUSEE"


class StructureRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    idDemande: Annotated[str, Text(64)]
    type: TypeDemande
    identifiant: str
    statut: StatutDemande = StatutDemande.EN_ATTENTE
    demandeur: str | None = None
    commentaire: Annotated[str | None, Text(2000, multiline=True)] = None
    dateDemande: datetime
    structureProposee: Structure | None = None
    decideur: str | None = None
    commentaireOperateur: Annotated[str | None, Text(2000, multiline=True)] = None
    dateDecision: datetime | None = None

    @property
    def decided(self) -> bool:
        return self.statut is not StatutDemande.EN_ATTENTE


def _submitted(request: StructureRequest) -> StructureRequestSubmitted:
    return StructureRequestSubmitted(
        identifiant=request.identifiant,
        requestId=request.idDemande,
        kind=request.type.value,
        requestedBy=request.demandeur,
    )


def submit_creation_request(
    request_id: str,
    data: Mapping[str, Any],
    *,
    requested_by: str | None,
    now: datetime,
    comment: str | None = None,
) -> Outcome[StructureRequest]:
    """Validate the proposed public structure now; it is created only when accepted."""
    proposed = new_public_structure(data, today=now.date(), origin="REQUEST").structure
    request = StructureRequest(
        idDemande=request_id,
        type=TypeDemande.CREATION_STRUCTURE_PUBLIQUE,
        identifiant=proposed.identifiant,
        demandeur=requested_by,
        commentaire=comment,
        dateDemande=now,
        structureProposee=proposed,
    )
    return Outcome(request, [_submitted(request)])


def submit_deactivation_request(
    request_id: str,
    structure: Structure,
    *,
    requested_by: str | None,
    now: datetime,
    comment: str | None = None,
) -> Outcome[StructureRequest]:
    if not structure.is_active:
        raise DomainError(
            ErrorCode.STRUCTURE_INACTIVE, details={"identifiant": structure.identifiant}
        )
    request = StructureRequest(
        idDemande=request_id,
        type=TypeDemande.DESACTIVATION_STRUCTURE,
        identifiant=structure.identifiant,
        demandeur=requested_by,
        commentaire=comment,
        dateDemande=now,
    )
    return Outcome(request, [_submitted(request)])


def _decide(
    request: StructureRequest,
    statut: StatutDemande,
    operator_id: str,
    comment: str | None,
    now: datetime,
) -> Outcome[StructureRequest]:
    if request.decided:
        raise DomainError(
            ErrorCode.REQUEST_ALREADY_DECIDED,
            details={"idDemande": request.idDemande, "statut": request.statut.value},
        )
    comment = comment.strip() if comment else None
    if statut is StatutDemande.REFUSEE and not comment:
        raise field_error("commentaireOperateur", "le motif du refus est obligatoire")
    decided = request.model_copy(
        update={
            "statut": statut,
            "decideur": operator_id,
            "commentaireOperateur": comment,
            "dateDecision": now,
        }
    )
    event = StructureRequestDecided(
        identifiant=request.identifiant,
        requestId=request.idDemande,
        kind=request.type.value,
        decision=statut.value,
        decidedBy=operator_id,
        commentaire=comment,
    )
    return Outcome(decided, [event])


def accept(
    request: StructureRequest, *, operator_id: str, now: datetime, comment: str | None = None
) -> Outcome[StructureRequest]:
    return _decide(request, StatutDemande.ACCEPTEE, operator_id, comment, now)


def refuse(
    request: StructureRequest, *, operator_id: str, now: datetime, comment: str
) -> Outcome[StructureRequest]:
    return _decide(request, StatutDemande.REFUSEE, operator_id, comment, now)


def structure_from_request(request: StructureRequest, *, today: date) -> PublicStructureCreated:
    """The public structure an accepted creation request gives (with FACTURES_PUBLIQUES)."""
    if (
        request.type is not TypeDemande.CREATION_STRUCTURE_PUBLIQUE
        or request.structureProposee is None
    ):
        raise field_error("type", "demande de création attendue")
    if request.statut is not StatutDemande.ACCEPTEE:
        raise field_error("statut", "la demande n'est pas acceptée")
    return new_public_structure(
        request.structureProposee.model_dump(exclude={"typeStructure", "statut"}),
        today=today,
        origin="REQUEST",
        created_by=request.demandeur,
    )
