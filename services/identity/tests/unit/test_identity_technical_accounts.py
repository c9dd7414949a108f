from datetime import timedelta

import pytest

from chorale_identity.domain import events
from chorale_identity.domain import technical_accounts as ta
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.keys import KeySet, generate_signing_key
from chorale_identity.domain.secrets_util import fingerprint
from chorale_identity.domain.tokens import SubjectType, issue_access_token, verify_access_token

SIRET = "13000000000006"


@pytest.fixture
def created(now):
    return ta.create_technical_account(
        identifiant_structure=SIRET, libelle="Plateforme EDI", created_by="gp", now=now
    )


def code_of(action):
    with pytest.raises(DomainError) as caught:
        action()
    return caught.value


def test_creation_shows_the_secret_once_and_stores_its_hash(created):
    credentials, transition = created
    account = transition.state
    assert transition.event == events.TECHNICAL_ACCOUNT_CREATED
    assert credentials.client_id == account.client_id and account.client_id.startswith("ta_")
    assert credentials.client_secret.startswith("tas_") and len(credentials.client_secret) >= 47
    assert account.secret_hash == fingerprint(credentials.client_secret)
    assert credentials.client_secret not in account.model_dump_json()
    assert credentials.client_secret not in repr(credentials)
    assert account.secret_hash not in repr(account)
    view = ta.to_view(account)
    assert "secretHash" not in view.model_dump()
    assert account.secret_hash not in view.model_dump_json()
    assert view.model_dump()["identifiantStructure"] == SIRET


def test_authentication(created, now):
    credentials, transition = created
    used = ta.authenticate(transition.state, credentials.client_secret, now + timedelta(hours=1))
    assert used.last_used_at == now + timedelta(hours=1)


def test_wrong_secret_and_unknown_client_look_the_same(created, now):
    credentials, transition = created
    wrong = code_of(
        lambda: ta.authenticate(transition.state, credentials.client_secret[:-1] + "x", now)
    )
    unknown = code_of(lambda: ta.authenticate(None, credentials.client_secret, now))
    empty = code_of(lambda: ta.authenticate(transition.state, "", now))
    assert wrong.to_dict() == unknown.to_dict() == empty.to_dict()
    assert wrong.code is ErrorCode.INVALID_CREDENTIALS


def test_rotation_invalidates_the_old_secret(created, now):
    old, transition = created
    new, rotated = ta.rotate_secret(transition.state, now + timedelta(days=1))
    assert rotated.event == events.TECHNICAL_ACCOUNT_SECRET_ROTATED
    assert new.client_id == old.client_id and new.client_secret != old.client_secret
    assert (
        code_of(lambda: ta.authenticate(rotated.state, old.client_secret, now)).code
        is ErrorCode.INVALID_CREDENTIALS
    )
    ta.authenticate(rotated.state, new.client_secret, now)


def test_revoked_account_is_refused(created, now):
    credentials, transition = created
    revoked = ta.revoke(transition.state, by="gp", now=now)
    assert revoked.event == events.TECHNICAL_ACCOUNT_REVOKED
    assert (
        code_of(lambda: ta.authenticate(revoked.state, credentials.client_secret, now)).code
        is ErrorCode.TECHNICAL_ACCOUNT_REVOKED
    )
    # Without the secret, a revoked account is just wrong credentials.
    assert (
        code_of(lambda: ta.authenticate(revoked.state, "tas_guess", now)).code
        is ErrorCode.INVALID_CREDENTIALS
    )
    for action in (
        lambda: ta.rotate_secret(revoked.state, now),
        lambda: ta.revoke(revoked.state, by="gp", now=now),
    ):
        assert code_of(action).code is ErrorCode.TECHNICAL_ACCOUNT_REVOKED


def test_technical_token_carries_the_structure(created, now):
    _, transition = created
    account = transition.state
    keyset = KeySet(generate_signing_key())
    issued = issue_access_token(
        keyset,
        subject=account.id,
        typ=SubjectType.TECHNICAL,
        now=now,
        structure=account.identifiant_structure,
    )
    claims = verify_access_token(issued.token, keyset.jwks(), now)
    assert (claims.sub, claims.typ, claims.structure, claims.roles) == (
        account.id,
        SubjectType.TECHNICAL,
        SIRET,
        (),
    )


def test_label_is_required(now):
    assert (
        code_of(
            lambda: ta.create_technical_account(
                identifiant_structure=SIRET, libelle=" ", created_by="gp", now=now
            )
        ).code
        is ErrorCode.INPUT_INVALID
    )
