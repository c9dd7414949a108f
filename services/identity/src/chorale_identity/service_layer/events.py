"""Envelopes for ``chorale.identity.v1``, built from the domain's transitions.

The Kafka key is the aggregate's id (contracts module docstring): the user id for ``user.*``,
the rattachement id for ``rattachement.*``, the structure identifier for ``gestionnaire.*``
and ``technical_account.*``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chorale_contracts import Envelope, new_envelope
from chorale_contracts.events import identity as contract
from chorale_contracts.registry import EventPayload
from chorale_identity.domain import events as types
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.gestionnaire import GestionnairePrincipal
from chorale_identity.domain.invitations import Invitation
from chorale_identity.domain.rattachements import Rattachement
from chorale_identity.domain.technical_accounts import TechnicalAccount
from chorale_identity.domain.verification import LinkPurpose

PRODUCER = "identity"


@dataclass(frozen=True)
class Cause:
    """What a change answers to: the request's correlation id, or the incoming event."""

    correlation_id: str
    causation_id: str | None = None

    @classmethod
    def of_event(cls, envelope: Envelope) -> Cause:
        return cls(envelope.correlation_id, str(envelope.event_id))


def envelope(payload: EventPayload, key: str, cause: Cause, now: datetime) -> Envelope:
    return new_envelope(
        payload,
        key=key,
        producer=PRODUCER,
        correlation_id=cause.correlation_id,
        causation_id=cause.causation_id,
        occurred_at=now,
    )


def _user(a: UserAccount, _d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return a.id, {"userId": a.id}


def _registered(a: UserAccount, _d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return a.id, {
        "userId": a.id,
        "loginEmail": a.login_email,
        "contactEmail": a.contact_email,
        "prenom": a.prenom,
        "nom": a.nom,
        "roles": list(a.roles),
    }


def _profile(a: UserAccount, _d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return a.id, {"userId": a.id, "contactEmail": a.contact_email, "prenom": a.prenom, "nom": a.nom}


def _rattachement(r: Rattachement, d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    base = {
        "rattachementId": r.id,
        "userId": r.user_id,
        "structure": r.identifiant_structure,
        "codeService": r.code_service,
    }
    if r.detached_by is not None:
        return r.id, {**base, "detachedBy": r.detached_by}
    if r.decided_by is None:
        return r.id, {**base, "commentaire": r.commentaire}
    commentaire = r.commentaire if d.get("direct") else r.decision_commentaire
    extra = {"direct": bool(d["direct"])} if "direct" in d else {}
    return r.id, {**base, "decidedBy": r.decided_by, "commentaire": commentaire, **extra}


def _invited(i: Invitation, d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return i.id, {
        "rattachementId": i.id,
        "userId": d["userId"],
        "structure": i.identifiant_structure,
        "codeService": i.code_service,
        "invitedBy": i.invited_by,
        "commentaire": i.commentaire,
    }


def _designated(gp: GestionnairePrincipal, d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return gp.identifiant_structure, {
        "structure": gp.identifiant_structure,
        "userId": gp.user_id,
        "previousUserId": d.get("previousUserId"),
        "designatedBy": d.get("designatedBy"),
    }


def _transferred(gp: GestionnairePrincipal, d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return gp.identifiant_structure, {
        "structure": gp.identifiant_structure,
        "fromUserId": d["fromUserId"],
        "toUserId": d["toUserId"],
    }


def _technical(t: TechnicalAccount, _d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return t.identifiant_structure, {
        "technicalAccountId": t.id,
        "structure": t.identifiant_structure,
    }


def _technical_created(t: TechnicalAccount, d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    key, body = _technical(t, d)
    return key, {**body, "clientId": t.client_id, "createdBy": t.created_by}


_Builder = Callable[[Any, dict[str, Any]], tuple[str, dict[str, Any]]]

_BUILDERS: dict[str, tuple[type[EventPayload], _Builder]] = {
    types.USER_REGISTERED: (contract.UserRegistered, _registered),
    types.USER_VERIFIED: (contract.UserVerified, _user),
    types.USER_PROFILE_UPDATED: (contract.UserProfileUpdated, _profile),
    types.USER_DEACTIVATED: (contract.UserDeactivated, _user),
    types.RATTACHEMENT_REQUESTED: (contract.RattachementRequested, _rattachement),
    types.RATTACHEMENT_INVITED: (contract.RattachementInvited, _invited),
    types.RATTACHEMENT_APPROVED: (contract.RattachementApproved, _rattachement),
    types.RATTACHEMENT_REFUSED: (contract.RattachementRefused, _rattachement),
    types.RATTACHEMENT_DETACHED: (contract.RattachementDetached, _rattachement),
    types.GESTIONNAIRE_DESIGNATED: (contract.GestionnaireDesignated, _designated),
    types.GESTIONNAIRE_TRANSFERRED: (contract.GestionnaireTransferred, _transferred),
    types.TECHNICAL_ACCOUNT_CREATED: (contract.TechnicalAccountCreated, _technical_created),
    types.TECHNICAL_ACCOUNT_SECRET_ROTATED: (contract.TechnicalAccountSecretRotated, _technical),
    types.TECHNICAL_ACCOUNT_REVOKED: (contract.TechnicalAccountRevoked, _technical),
}


def events_of(transition: Transition[Any], cause: Cause, now: datetime) -> list[Envelope]:
    """The envelope of a transition's event (none when the transition changed nothing)."""
    if transition.event is None:
        return []
    payload_class, build = _BUILDERS[transition.event]
    key, body = build(transition.state, transition.details)
    return [envelope(payload_class(**body), key, cause, now)]


def verification_requested(
    account: UserAccount,
    purpose: LinkPurpose,
    link_id: str,
    expires_at: datetime,
    cause: Cause,
    now: datetime,
    *,
    to: str,
) -> Envelope:
    """``to``: the address the link is mailed to (the login, or a contact address being
    confirmed), carried in the payload's ``contactEmail``."""
    payload = contract.UserVerificationRequested(
        userId=account.id,
        purpose=purpose.value,
        contactEmail=to,
        prenom=account.prenom,
        linkId=link_id,
        expiresAt=expires_at,
    )
    return envelope(payload, account.id, cause, now)
