"""Every domain transition becomes a contract-valid envelope keyed by its aggregate."""

from datetime import timedelta

import pytest

from chorale_contracts import REGISTRY
from chorale_identity.domain import accounts, gestionnaire, rattachements, technical_accounts
from chorale_identity.domain.verification import LinkPurpose
from chorale_identity.service_layer.events import Cause, events_of, verification_requested

from .conftest import T0

CAUSE = Cause("corr-1", "cause-1")


def produced(transition):
    [envelope] = events_of(transition, CAUSE, T0)
    payload = REGISTRY.payload_class(envelope.event_type).model_validate(envelope.payload)
    assert envelope.producer == "identity" and envelope.correlation_id == "corr-1"
    assert envelope.causation_id == "cause-1" and envelope.occurred_at == T0
    return envelope, payload


def test_user_events(make_account):
    account = make_account(verified=False)
    envelope, payload = produced(accounts.Transition(account, accounts.events.USER_REGISTERED))
    assert envelope.key == account.id and payload.loginEmail == account.login_email
    verified = accounts.verify_email(account, T0)
    assert produced(verified)[0].event_type == "user.verified"
    updated = accounts.update_profile(verified.state, T0, prenom="Anne")
    assert produced(updated)[1].prenom == "Anne"
    assert produced(accounts.deactivate(verified.state, T0))[0].event_type == "user.deactivated"
    assert events_of(accounts.update_profile(verified.state, T0), CAUSE, T0) == []


def test_verification_requested_carries_only_the_link_id(make_account):
    account = make_account(verified=False)
    envelope = verification_requested(
        account,
        LinkPurpose.PASSWORD_RESET,
        "link-1",
        T0 + timedelta(hours=1),
        CAUSE,
        T0,
        to=account.login_email,
    )
    payload = REGISTRY.payload_class(envelope.event_type).model_validate(envelope.payload)
    assert payload.purpose == "PASSWORD_RESET" and payload.linkId == "link-1"
    assert "link" not in envelope.payload and envelope.schema_version == 2
    assert payload.contactEmail == account.login_email
    assert envelope.key == account.id


@pytest.fixture
def requested():
    return rattachements.request_rattachement(
        user_id="u-1",
        identifiant_structure="13000000000006",
        now=T0,
        existing=(),
        code_service="COMPTA",
        commentaire="Merci",
    )


def test_rattachement_events(requested):
    envelope, payload = produced(requested)
    assert envelope.key == requested.state.id and payload.commentaire == "Merci"
    approved = rattachements.approve(requested.state, decided_by="gp", now=T0, commentaire="Ok")
    payload = produced(approved)[1]
    assert (payload.decidedBy, payload.commentaire, payload.direct) == ("gp", "Ok", False)
    refused = rattachements.refuse(requested.state, decided_by="gp", commentaire="Non", now=T0)
    assert produced(refused)[1].commentaire == "Non"
    detached = rattachements.detach(approved.state, by="u-1", now=T0)
    assert produced(detached)[1].detachedBy == "u-1"
    direct = rattachements.attach_directly(
        user_id="u-2", identifiant_structure="13000000000006", attached_by="gp", now=T0, existing=()
    )
    assert produced(direct)[1].direct is True


def test_gestionnaire_and_technical_account_events():
    designated = gestionnaire.creator_becomes_gp(
        identifiant_structure="13000000000006",
        type_structure="PRIVEE",
        creator_user_id="u-1",
        current=None,
        now=T0,
    )
    envelope, payload = produced(designated)
    assert envelope.key == "13000000000006" and payload.designatedBy == "u-1"
    r = rattachements.attach_directly(
        user_id="u-2",
        identifiant_structure="13000000000006",
        attached_by="u-1",
        now=T0,
        existing=(),
    ).state
    moved = gestionnaire.transfer_gp(
        designated.state, by_user_id="u-1", to_user_id="u-2", target_rattachements=[r], now=T0
    )
    assert produced(moved)[1].toUserId == "u-2"

    credentials, created = technical_accounts.create_technical_account(
        identifiant_structure="13000000000006", libelle="EDI", created_by="u-1", now=T0
    )
    envelope, payload = produced(created)
    assert payload.clientId == credentials.client_id
    assert credentials.client_secret not in envelope.model_dump_json()
    _, rotated = technical_accounts.rotate_secret(created.state, T0)
    assert produced(rotated)[0].event_type == "technical_account.secret_rotated"
    revoked = technical_accounts.revoke(created.state, by="u-1", now=T0)
    assert produced(revoked)[0].key == "13000000000006"
