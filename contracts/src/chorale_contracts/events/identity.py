"""`chorale.identity.v1`: accounts, rattachements, gestionnaires principaux, technical accounts.

Keys: `userId` for user.* events, `rattachementId` for rattachement.*, the structure's
`identifiant` for gestionnaire.* and technical_account.*."""

from datetime import datetime
from typing import Any, Literal

from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class _IdentityEvent(EventPayload):
    topic = Topic.IDENTITY


class _UserEvent(_IdentityEvent):
    userId: str


@event
class UserRegistered(_UserEvent):
    event_type = "user.registered"
    loginEmail: str
    contactEmail: str
    prenom: str
    nom: str
    roles: list[str] = []


def _link_becomes_link_id(data: dict[str, Any]) -> dict[str, Any]:
    """v1 carried the usable link itself; no usable token may rest in Kafka any more, and a v1
    link cannot be minted again: an empty `linkId`, which identity never knows, so
    notifications sends nothing (the person asks for a new link)."""
    upgraded = {k: v for k, v in data.items() if k != "link"}
    upgraded["linkId"] = ""
    return upgraded


@event
class UserVerificationRequested(_UserEvent):
    """Notifications mails a single-use link that expires at `expiresAt` to `contactEmail`.
    The event carries only the opaque `linkId`: at sending time notifications asks identity for
    the usable link (`POST /internal/v1/mail-links/{linkId}/token`) and puts it in the mail only.
    `contactEmail` is the address the link proves or recovers: the login e-mail for
    EMAIL_VERIFICATION and PASSWORD_RESET, the new, still unconfirmed contact address for
    CONTACT_EMAIL_VERIFICATION (not the contact e-mail in force).

    v2: `link` (the usable URL) replaced by `linkId`."""

    event_type = "user.verification_requested"
    schema_version = 2
    upcasters = {1: _link_becomes_link_id}
    purpose: Literal["EMAIL_VERIFICATION", "PASSWORD_RESET", "CONTACT_EMAIL_VERIFICATION"]
    contactEmail: str
    prenom: str
    linkId: str
    expiresAt: datetime


@event
class UserVerified(_UserEvent):
    event_type = "user.verified"


@event
class UserProfileUpdated(_UserEvent):
    event_type = "user.profile_updated"
    contactEmail: str
    prenom: str
    nom: str


@event
class UserDeactivated(_UserEvent):
    event_type = "user.deactivated"


class _RattachementEvent(_IdentityEvent):
    rattachementId: str
    userId: str
    structure: str
    codeService: str | None = None


@event
class RattachementRequested(_RattachementEvent):
    event_type = "rattachement.requested"
    commentaire: str | None = None


@event
class RattachementInvited(_RattachementEvent):
    """A gestionnaire invited the person whose login e-mail they typed (« Rattacher un
    utilisateur »); the person accepts or declines in their account. `rattachementId` is the
    invitation's id, which the rattachement takes if it is accepted (`rattachement.approved`,
    `direct` true, follows then). Emitted only when the address is an account's login: an
    address without an account is told nothing (no mail to addresses nobody proved)."""

    event_type = "rattachement.invited"
    invitedBy: str
    commentaire: str | None = None


@event
class RattachementApproved(_RattachementEvent):
    """Also emitted when a person accepts a gestionnaire's invitation (`direct` is then true,
    `decidedBy` the gestionnaire who invited)."""

    event_type = "rattachement.approved"
    decidedBy: str
    commentaire: str | None = None
    direct: bool = False


@event
class RattachementRefused(_RattachementEvent):
    event_type = "rattachement.refused"
    decidedBy: str
    commentaire: str | None = None


@event
class RattachementDetached(_RattachementEvent):
    event_type = "rattachement.detached"
    detachedBy: str


@event
class GestionnaireDesignated(_IdentityEvent):
    event_type = "gestionnaire.designated"
    structure: str
    userId: str
    previousUserId: str | None = None
    designatedBy: str | None = None


@event
class GestionnaireTransferred(_IdentityEvent):
    event_type = "gestionnaire.transferred"
    structure: str
    fromUserId: str
    toUserId: str


class _TechnicalAccountEvent(_IdentityEvent):
    technicalAccountId: str
    structure: str


@event
class TechnicalAccountCreated(_TechnicalAccountEvent):
    event_type = "technical_account.created"
    clientId: str
    createdBy: str


@event
class TechnicalAccountSecretRotated(_TechnicalAccountEvent):
    event_type = "technical_account.secret_rotated"


@event
class TechnicalAccountRevoked(_TechnicalAccountEvent):
    event_type = "technical_account.revoked"
