from datetime import timedelta

import pytest

from chorale_identity.domain import refresh_tokens as rt
from chorale_identity.domain.errors import ErrorCode
from chorale_identity.domain.refresh_tokens import RevocationReason
from chorale_identity.domain.secrets_util import fingerprint


class FakeStore:
    """What the repository does: find a family by current or retired token hash."""

    def __init__(self):
        self.families = {}

    def save(self, family):
        self.families[family.family_id] = family

    def find(self, token):
        digest = fingerprint(token)
        for family in self.families.values():
            if family.current_hash == digest or digest in family.previous_hashes:
                return family
        return None

    def refresh(self, token, now, **kwargs):
        result = rt.rotate(self.find(token), token, now, **kwargs)
        if result.changed:
            self.save(result.family)
        return result


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def session(store, now):
    family, token = rt.start_family("user-1", now)
    store.save(family)
    return family, token


def test_only_hashes_are_stored(session):
    family, token = session
    assert token.startswith("rt_") and len(token) > 40
    assert token not in family.model_dump_json()
    assert family.current_hash == fingerprint(token)


def test_each_refresh_issues_a_new_token_and_retires_the_old(store, session, now):
    family, first = session
    result = store.refresh(first, now + timedelta(minutes=20))
    assert result.ok and result.token != first
    assert result.family.generation == 1
    assert result.family.family_id == family.family_id
    second = store.refresh(result.token, now + timedelta(minutes=40))
    assert second.ok
    assert store.families[family.family_id].generation == 2


def test_reuse_of_a_rotated_token_revokes_the_whole_family(store, session, now):
    _, first = session
    legit = store.refresh(first, now + timedelta(minutes=20))
    stolen = store.refresh(first, now + timedelta(minutes=21))
    assert stolen.error.code is ErrorCode.TOKEN_REVOKED
    assert stolen.family.revoked_reason is RevocationReason.REUSE_DETECTED
    # The legitimate holder's newer token dies with the family.
    after = store.refresh(legit.token, now + timedelta(minutes=22))
    assert after.error.code is ErrorCode.TOKEN_REVOKED
    assert after.token is None


def test_logout_revokes_the_family(store, session, now):
    family, token = session
    store.save(rt.revoke_family(family, now + timedelta(minutes=1)))
    result = store.refresh(token, now + timedelta(minutes=2))
    assert result.error.code is ErrorCode.TOKEN_REVOKED
    assert store.families[family.family_id].revoked_reason is RevocationReason.LOGOUT


def test_unknown_token_is_invalid(store, session, now):
    result = store.refresh("rt_" + "x" * 43, now)
    assert result.error.code is ErrorCode.TOKEN_INVALID and result.family is None
    family, _ = session
    assert rt.rotate(family, "rt_forged", now).error.code is ErrorCode.TOKEN_INVALID
    assert not store.families[family.family_id].revoked


def test_idle_expiry(store, session, now):
    _, token = session
    result = store.refresh(token, now + rt.IDLE_TTL)
    assert result.error.code is ErrorCode.TOKEN_EXPIRED


def test_family_lifetime_is_absolute(store, session, now):
    _, token = session
    at = now
    for _ in range(5):  # keep refreshing every 5 days: the idle window never closes...
        at += timedelta(days=5)
        result = store.refresh(token, at)
        assert result.ok, at
        token = result.token
    assert result.family.current_expires_at == now + rt.FAMILY_TTL  # capped, not day 32
    at += timedelta(days=5)  # ...but day 30 is the end of the family
    assert store.refresh(token, at).error.code is ErrorCode.TOKEN_EXPIRED


def test_deactivated_subject_cannot_refresh(store, session, now):
    family, token = session
    result = store.refresh(token, now, subject_active=False)
    assert result.error.code is ErrorCode.TOKEN_REVOKED
    assert store.families[family.family_id].revoked_reason is RevocationReason.SUBJECT_INACTIVE


def test_result_repr_hides_the_token(store, session, now):
    _, token = session
    result = store.refresh(token, now)
    assert result.token not in repr(result)
