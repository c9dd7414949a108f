"""Gestionnaire principal (GP): exactly one per structure.

* A private structure's creator becomes its GP (from the structures service's event).
* An operator designates the GP of a public structure.
* Only the current GP transfers the role, and only to an active user with a VALIDEE
  rattachement to that structure (to the structure itself or to one of its services).
* The GP cannot detach from the structure without transferring the role first.

"Exactly one" is a storage invariant as much as a rule: the repository keeps one document per
structure with the structure identifier as ``_id`` (a first designation is an insert, so two
concurrent ones cannot both succeed) and saves a transfer with a compare-and-set on
``version`` (two concurrent transfers: one wins, the other finds a changed version).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime

from . import events
from .base import DomainModel, Transition
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .rattachements import (
    Rattachement,
    RattachementStatus,
    is_attached,
    normalise_identifiant,
)

OPERATOR_ROLE = "operator"


class StructureType(StrEnum):
    PUBLIQUE = "PUBLIQUE"
    PRIVEE = "PRIVEE"


class GpOrigin(StrEnum):
    CREATEUR = "CREATEUR"
    OPERATEUR = "OPERATEUR"
    TRANSFERT = "TRANSFERT"


class GestionnairePrincipal(DomainModel):
    identifiant_structure: str
    user_id: str
    origin: GpOrigin
    designated_by: str | None
    since: AwareDatetime
    previous_user_id: str | None = None
    version: int = 1


def _designate(
    identifiant_structure: str,
    user_id: str,
    origin: GpOrigin,
    designated_by: str | None,
    current: GestionnairePrincipal | None,
    now: datetime,
) -> GestionnairePrincipal:
    return GestionnairePrincipal(
        identifiant_structure=identifiant_structure,
        user_id=user_id,
        origin=origin,
        designated_by=designated_by,
        since=require_utc(now),
        previous_user_id=current.user_id if current else None,
        version=current.version + 1 if current else 1,
    )


def creator_becomes_gp(
    *,
    identifiant_structure: str,
    type_structure: StructureType,
    creator_user_id: str,
    current: GestionnairePrincipal | None,
    now: datetime,
) -> Transition[GestionnairePrincipal]:
    """On ``structure.created`` for a private structure. Idempotent for the same creator,
    because the event may be delivered more than once."""
    identifiant = normalise_identifiant(identifiant_structure)
    if StructureType(type_structure) is not StructureType.PRIVEE:
        raise DomainError(ErrorCode.STRUCTURE_NOT_PRIVATE)
    if current is not None:
        if current.user_id == creator_user_id:
            return Transition(current, None)
        raise DomainError(ErrorCode.GP_ALREADY_DESIGNATED)
    gp = _designate(identifiant, creator_user_id, GpOrigin.CREATEUR, creator_user_id, None, now)
    return Transition(
        gp,
        events.GESTIONNAIRE_DESIGNATED,
        {"previousUserId": None, "designatedBy": creator_user_id},
    )


def designate_by_operator(
    *,
    identifiant_structure: str,
    type_structure: StructureType,
    user_id: str,
    operator_id: str,
    operator_roles: Iterable[str],
    current: GestionnairePrincipal | None,
    now: datetime,
    target_active: bool = True,
    replace: bool = False,
) -> Transition[GestionnairePrincipal]:
    """An operator names the GP of a public structure. ``replace`` lets an operator recover a
    structure whose GP has left; without it an existing GP is never overwritten.

    The service layer also attaches the user directly to the structure if they are not yet.
    """
    if OPERATOR_ROLE not in set(operator_roles):
        raise DomainError(ErrorCode.FORBIDDEN)
    identifiant = normalise_identifiant(identifiant_structure)
    if StructureType(type_structure) is not StructureType.PUBLIQUE:
        raise DomainError(ErrorCode.STRUCTURE_NOT_PUBLIC)
    if not target_active:
        raise DomainError(ErrorCode.GP_TARGET_INACTIVE)
    if current is not None:
        if current.user_id == user_id:
            return Transition(current, None)
        if not replace:
            raise DomainError(
                ErrorCode.GP_ALREADY_DESIGNATED, details={"gestionnairePrincipal": current.user_id}
            )
    gp = _designate(identifiant, user_id, GpOrigin.OPERATEUR, operator_id, current, now)
    return Transition(
        gp,
        events.GESTIONNAIRE_DESIGNATED,
        {"previousUserId": current.user_id if current else None, "designatedBy": operator_id},
    )


def transfer_gp(
    current: GestionnairePrincipal,
    *,
    by_user_id: str,
    to_user_id: str,
    target_rattachements: Iterable[Rattachement],
    now: datetime,
    target_active: bool = True,
) -> Transition[GestionnairePrincipal]:
    """The current GP hands the role to ``to_user_id``; the former GP stays attached."""
    if by_user_id != current.user_id:
        raise DomainError(ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL)
    if to_user_id == current.user_id:
        raise DomainError(ErrorCode.GP_SAME_USER)
    if not is_attached(to_user_id, current.identifiant_structure, target_rattachements):
        raise DomainError(ErrorCode.GP_TARGET_NOT_ATTACHED)
    if not target_active:
        raise DomainError(ErrorCode.GP_TARGET_INACTIVE)
    gp = _designate(
        current.identifiant_structure, to_user_id, GpOrigin.TRANSFERT, by_user_id, current, now
    )
    return Transition(
        gp, events.GESTIONNAIRE_TRANSFERRED, {"fromUserId": current.user_id, "toUserId": to_user_id}
    )


def ensure_can_detach(
    rattachement: Rattachement,
    current: GestionnairePrincipal | None,
    user_rattachements: Iterable[Rattachement],
) -> None:
    """Refuse to detach the GP from the last VALIDEE rattachement to their structure."""
    if current is None or rattachement.user_id != current.user_id:
        return
    if rattachement.identifiant_structure != current.identifiant_structure:
        return
    others = [
        r
        for r in user_rattachements
        if r.id != rattachement.id
        and r.user_id == current.user_id
        and r.identifiant_structure == current.identifiant_structure
        and r.status is RattachementStatus.VALIDEE
    ]
    if not others:
        raise DomainError(ErrorCode.GP_MUST_TRANSFER_FIRST)
