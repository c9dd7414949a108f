"""« Rattacher un utilisateur » as an invitation (issue 14): only the invited login answers,
once, before it expires; nothing about any account is in it."""

from datetime import timedelta

import pytest

from chorale_identity.domain import invitations
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.invitations import INVITATION_TTL, InvitationStatus


@pytest.fixture
def invitation(now):
    return invitations.invite(
        email=" Agent@Ville.FR ",
        identifiant_structure="130 000 000 00006",
        code_service=" COMPTA ",
        commentaire="Bienvenue",
        invited_by="gp-1",
        now=now,
    )


def test_an_invitation_is_about_an_address_not_an_account(invitation, now):
    assert invitation.email == "agent@ville.fr"
    assert invitation.identifiant_structure == "13000000000006"
    assert invitation.code_service == "COMPTA"
    assert invitation.status is InvitationStatus.EN_ATTENTE
    assert invitation.expires_at == now + INVITATION_TTL
    assert not {"userId", "user_id"} & set(invitation.model_dump())
    assert invitation.live_key() == "agent@ville.fr|13000000000006|COMPTA"


def test_only_the_invited_login_answers_and_only_once(invitation, now):
    with pytest.raises(DomainError) as caught:
        invitations.accept(invitation, "autre@ville.fr", now)
    assert caught.value.code is ErrorCode.INVITATION_NOT_FOUND
    accepted = invitations.accept(invitation, "agent@ville.fr", now + timedelta(hours=1))
    assert accepted.status is InvitationStatus.ACCEPTEE
    assert accepted.decided_at == now + timedelta(hours=1)
    for answer in (invitations.accept, invitations.decline):
        with pytest.raises(DomainError) as caught:
            answer(accepted, "agent@ville.fr", now)
        assert caught.value.code is ErrorCode.INVITATION_ALREADY_DECIDED


def test_an_expired_invitation_cannot_be_answered_and_is_closed_on_reinvite(invitation, now):
    late = now + INVITATION_TTL + timedelta(seconds=1)
    assert not invitation.is_open(late)
    with pytest.raises(DomainError) as caught:
        invitations.accept(invitation, "agent@ville.fr", late)
    assert caught.value.code is ErrorCode.INVITATION_NOT_FOUND
    assert invitations.expire(invitation, late).status is InvitationStatus.EXPIREE
    assert invitations.expire(invitation, now) == invitation  # still open: untouched


def test_declining_closes_it(invitation, now):
    declined = invitations.decline(invitation, "agent@ville.fr", now)
    assert declined.status is InvitationStatus.DECLINEE
