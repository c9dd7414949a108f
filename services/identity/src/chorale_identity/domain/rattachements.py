"""Rattachements: a user's attachment to a structure (SIRET/identifiant) or to one of its
services (``codeService``).

    request ──► EN_COURS_DE_VALIDATION ──► VALIDEE ──► DESACTIVEE   (me détacher / gestionnaire)
                                      └──► REFUSEE
    attach_directly ("Rattacher un utilisateur") ──► VALIDEE

At most one pending or valid rattachement per (user, structure, service); a refused or
detached one may be requested again. Who may decide (the structure's GP or an "Organisation
modification" holder) is checked by the service layer with the habilitations service; this
module checks what it can know: nobody decides their own request, only the user or a
gestionnaire detaches. The Approbations view and its CSV export are in ``approbations.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime

from . import events
from .base import DomainModel, Transition, new_id
from .clock import require_utc
from .errors import DomainError, ErrorCode

COMMENT_MAX = 1000


class RattachementStatus(StrEnum):
    EN_COURS_DE_VALIDATION = "EN_COURS_DE_VALIDATION"
    VALIDEE = "VALIDEE"
    REFUSEE = "REFUSEE"
    DESACTIVEE = "DESACTIVEE"


LIVE_STATUSES = frozenset({RattachementStatus.EN_COURS_DE_VALIDATION, RattachementStatus.VALIDEE})


class RattachementOrigin(StrEnum):
    DEMANDE = "DEMANDE"  # requested by the user, decided by a gestionnaire
    DIRECT = "DIRECT"  # "Rattacher un utilisateur" by a gestionnaire


class Rattachement(DomainModel):
    id: str
    user_id: str
    identifiant_structure: str
    code_service: str | None = None
    status: RattachementStatus
    origin: RattachementOrigin
    commentaire: str | None = None
    requested_by: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    decision_commentaire: str | None = None
    detached_by: str | None = None
    detached_at: AwareDatetime | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.user_id, self.identifiant_structure, self.code_service)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


def normalise_identifiant(value: str) -> str:
    cleaned = "".join((value or "").split())
    if not cleaned:
        raise DomainError(
            ErrorCode.INPUT_INVALID,
            "L'identifiant de la structure est requis.",
            {"champ": "identifiantStructure"},
        )
    return cleaned


def clean_code_service(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned or None


def check_comment(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > COMMENT_MAX:
        raise DomainError(
            ErrorCode.INPUT_INVALID,
            f"Le commentaire dépasse {COMMENT_MAX} caractères.",
            {"champ": "commentaire"},
        )
    return cleaned or None


def _ensure_no_live_duplicate(
    key: tuple[str, str, str | None], existing: Iterable[Rattachement]
) -> None:
    for other in existing:
        if other.key == key and other.is_live:
            raise DomainError(
                ErrorCode.RATTACHEMENT_EXISTS,
                details={"rattachementId": other.id, "statut": str(other.status)},
            )


def _new(
    *,
    user_id: str,
    identifiant_structure: str,
    code_service: str | None,
    commentaire: str | None,
    requested_by: str,
    existing: Iterable[Rattachement],
    now: datetime,
    status: RattachementStatus,
    origin: RattachementOrigin,
) -> Rattachement:
    now = require_utc(now)
    key = (user_id, normalise_identifiant(identifiant_structure), clean_code_service(code_service))
    _ensure_no_live_duplicate(key, existing)
    decided = status is RattachementStatus.VALIDEE
    return Rattachement(
        id=new_id(),
        user_id=key[0],
        identifiant_structure=key[1],
        code_service=key[2],
        status=status,
        origin=origin,
        commentaire=check_comment(commentaire),
        requested_by=requested_by,
        created_at=now,
        updated_at=now,
        decided_by=requested_by if decided else None,
        decided_at=now if decided else None,
    )


def request_rattachement(
    *,
    user_id: str,
    identifiant_structure: str,
    now: datetime,
    existing: Iterable[Rattachement],
    code_service: str | None = None,
    commentaire: str | None = None,
) -> Transition[Rattachement]:
    """The user asks to be attached; ``existing``: the user's rattachements to that structure.

    The repository's unique index on the live key backs this check under concurrency.
    """
    created = _new(
        user_id=user_id,
        identifiant_structure=identifiant_structure,
        code_service=code_service,
        commentaire=commentaire,
        requested_by=user_id,
        existing=existing,
        now=now,
        status=RattachementStatus.EN_COURS_DE_VALIDATION,
        origin=RattachementOrigin.DEMANDE,
    )
    return Transition(created, events.RATTACHEMENT_REQUESTED)


def attach_directly(
    *,
    user_id: str,
    identifiant_structure: str,
    attached_by: str,
    now: datetime,
    existing: Iterable[Rattachement],
    code_service: str | None = None,
    commentaire: str | None = None,
) -> Transition[Rattachement]:
    """ "Rattacher un utilisateur": a gestionnaire attaches someone, valid at once. A pending
    request for the same key is not swallowed: RATTACHEMENT_EXISTS names it, approve it."""
    created = _new(
        user_id=user_id,
        identifiant_structure=identifiant_structure,
        code_service=code_service,
        commentaire=commentaire,
        requested_by=attached_by,
        existing=existing,
        now=now,
        status=RattachementStatus.VALIDEE,
        origin=RattachementOrigin.DIRECT,
    )
    return Transition(created, events.RATTACHEMENT_APPROVED, {"direct": True})


def _decide(
    rattachement: Rattachement,
    status: RattachementStatus,
    decided_by: str,
    commentaire: str | None,
    now: datetime,
) -> Rattachement:
    if rattachement.status is not RattachementStatus.EN_COURS_DE_VALIDATION:
        raise DomainError(
            ErrorCode.RATTACHEMENT_ALREADY_DECIDED, details={"statut": str(rattachement.status)}
        )
    if decided_by == rattachement.user_id:
        raise DomainError(
            ErrorCode.FORBIDDEN, "Vous ne pouvez pas traiter votre propre demande de rattachement."
        )
    now = require_utc(now)
    return rattachement.model_copy(
        update={
            "status": status,
            "decided_by": decided_by,
            "decided_at": now,
            "decision_commentaire": check_comment(commentaire),
            "updated_at": now,
        }
    )


def approve(
    rattachement: Rattachement,
    *,
    decided_by: str,
    now: datetime,
    commentaire: str | None = None,
) -> Transition[Rattachement]:
    decided = _decide(rattachement, RattachementStatus.VALIDEE, decided_by, commentaire, now)
    return Transition(decided, events.RATTACHEMENT_APPROVED, {"direct": False})


def refuse(
    rattachement: Rattachement, *, decided_by: str, commentaire: str, now: datetime
) -> Transition[Rattachement]:
    """A refusal must say why: the requester receives the comment."""
    if not check_comment(commentaire):
        raise DomainError(ErrorCode.COMMENT_REQUIRED)
    decided = _decide(rattachement, RattachementStatus.REFUSEE, decided_by, commentaire, now)
    return Transition(decided, events.RATTACHEMENT_REFUSED)


def detach(
    rattachement: Rattachement, *, by: str, now: datetime, by_gestionnaire: bool = False
) -> Transition[Rattachement]:
    """ "Me détacher" (``by`` is the user) or a gestionnaire's removal (``by_gestionnaire``).

    The GP must transfer the role before leaving: see ``gestionnaire.ensure_can_detach``.
    """
    if by != rattachement.user_id and not by_gestionnaire:
        raise DomainError(ErrorCode.FORBIDDEN)
    if rattachement.status is not RattachementStatus.VALIDEE:
        raise DomainError(
            ErrorCode.RATTACHEMENT_NOT_ACTIVE, details={"statut": str(rattachement.status)}
        )
    now = require_utc(now)
    detached = rattachement.model_copy(
        update={
            "status": RattachementStatus.DESACTIVEE,
            "detached_by": by,
            "detached_at": now,
            "updated_at": now,
        }
    )
    return Transition(detached, events.RATTACHEMENT_DETACHED)


def is_attached(
    user_id: str, identifiant_structure: str, rattachements: Iterable[Rattachement]
) -> bool:
    """A VALIDEE rattachement to the structure itself or to one of its services."""
    target = normalise_identifiant(identifiant_structure)
    return any(
        r.user_id == user_id
        and r.identifiant_structure == target
        and r.status is RattachementStatus.VALIDEE
        for r in rattachements
    )
