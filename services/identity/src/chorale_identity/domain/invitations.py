"""Invitations: « Rattacher un utilisateur » asks the person instead of attaching them.

A gestionnaire invites an e-mail address to their structure (or one of its services). The
answer is the same whether or not the address has an account, and whatever the account's
state (no enumeration). The person whose LOGIN e-mail it is sees the invitation in
``GET /v1/me/invitations`` and accepts it (only then does the rattachement exist, VALIDEE,
origin DIRECT) or declines it. An invitation lives ``INVITATION_TTL``; an account created
with that address in the meantime can still accept it.

    invite ──► EN_ATTENTE ──► ACCEPTEE   (the rattachement is created with the invitation's id)
                         ├──► DECLINEE
                         └──► EXPIREE      (closed when invited again after its expiry)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime

from .base import DomainModel, new_id
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .rattachements import check_comment, clean_code_service, normalise_identifiant
from .validation import normalise_email

INVITATION_TTL = timedelta(days=30)


class InvitationStatus(StrEnum):
    EN_ATTENTE = "EN_ATTENTE"
    ACCEPTEE = "ACCEPTEE"
    DECLINEE = "DECLINEE"
    EXPIREE = "EXPIREE"


class Invitation(DomainModel):
    id: str
    email: str
    identifiant_structure: str
    code_service: str | None = None
    commentaire: str | None = None
    invited_by: str
    status: InvitationStatus = InvitationStatus.EN_ATTENTE
    created_at: AwareDatetime
    expires_at: AwareDatetime
    decided_at: AwareDatetime | None = None

    def is_open(self, now: datetime) -> bool:
        return self.status is InvitationStatus.EN_ATTENTE and require_utc(now) < self.expires_at

    def live_key(self) -> str:
        """One open invitation per (address, structure, service): inviting again is a no-op."""
        return "|".join((self.email, self.identifiant_structure, self.code_service or "-"))


def invite(
    *,
    email: str,
    identifiant_structure: str,
    code_service: str | None,
    commentaire: str | None,
    invited_by: str,
    now: datetime,
) -> Invitation:
    now = require_utc(now)
    return Invitation(
        id=new_id(),
        email=normalise_email(email),
        identifiant_structure=normalise_identifiant(identifiant_structure),
        code_service=clean_code_service(code_service),
        commentaire=check_comment(commentaire),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )


def _decide(
    invitation: Invitation, login_email: str, now: datetime, status: InvitationStatus
) -> Invitation:
    """Only the person whose login is the invited address may answer; to anyone else the
    invitation does not exist."""
    now = require_utc(now)
    if invitation.email != login_email:
        raise DomainError(ErrorCode.INVITATION_NOT_FOUND)
    if invitation.status is not InvitationStatus.EN_ATTENTE:
        raise DomainError(ErrorCode.INVITATION_ALREADY_DECIDED)
    if not invitation.is_open(now):
        raise DomainError(ErrorCode.INVITATION_NOT_FOUND)
    return invitation.model_copy(update={"status": status, "decided_at": now})


def accept(invitation: Invitation, login_email: str, now: datetime) -> Invitation:
    return _decide(invitation, login_email, now, InvitationStatus.ACCEPTEE)


def decline(invitation: Invitation, login_email: str, now: datetime) -> Invitation:
    return _decide(invitation, login_email, now, InvitationStatus.DECLINEE)


def expire(invitation: Invitation, now: datetime) -> Invitation:
    """Close an invitation past its date, so the same address may be invited again."""
    if invitation.status is not InvitationStatus.EN_ATTENTE or invitation.is_open(now):
        return invitation
    return invitation.model_copy(
        update={"status": InvitationStatus.EXPIREE, "decided_at": require_utc(now)}
    )
