from datetime import timedelta

import pytest

from chorale_identity.domain import accounts, totp
from chorale_identity.domain.errors import ErrorCode
from chorale_identity.domain.factors import confirm_totp_enrolment, start_totp_enrolment
from chorale_identity.domain.passwords import Argon2Params, PasswordHasher
from chorale_identity.domain.sign_in import SignInReason, sign_in_decision

PASSWORD = "Correct-Horse-42"
WRONG = "Wrong-Horse-42"


def attempt(account, password, now, hasher, code=None):
    return sign_in_decision(account, password, code, now, hasher=hasher)


def fail_n_times(account, n, now, hasher):
    for i in range(n):
        outcome = attempt(account, WRONG, now + timedelta(seconds=i), hasher)
        account = outcome.account
    return account, outcome


def test_success_returns_the_account_with_a_clean_counter(make_account, now, hasher):
    account, _ = fail_n_times(make_account(), 3, now, hasher)
    assert account.failed_attempts == 3
    outcome = attempt(account, PASSWORD, now + timedelta(minutes=1), hasher)
    assert outcome.ok and outcome.reason is SignInReason.OK and outcome.changed
    assert outcome.account.failed_attempts == 0
    assert outcome.account.last_sign_in_at == now + timedelta(minutes=1)


def test_five_failures_lock_for_an_hour_even_with_the_right_password(make_account, now, hasher):
    account, fifth = fail_n_times(make_account(), 5, now, hasher)
    assert fifth.locked_now
    assert account.locked_until == now + timedelta(seconds=4) + timedelta(hours=1)
    assert accounts.is_locked(account, now + timedelta(minutes=30))

    during = attempt(account, PASSWORD, now + timedelta(minutes=59), hasher)
    assert not during.ok
    assert during.reason is SignInReason.ACCOUNT_LOCKED
    assert during.error.code is ErrorCode.INVALID_CREDENTIALS


def test_four_failures_do_not_lock(make_account, now, hasher):
    account, fourth = fail_n_times(make_account(), 4, now, hasher)
    assert not fourth.locked_now
    assert accounts.can_sign_in(account, now + timedelta(seconds=5))
    assert attempt(account, PASSWORD, now + timedelta(seconds=5), hasher).ok


def test_failures_while_locked_do_not_extend_the_lock(make_account, now, hasher):
    account, _ = fail_n_times(make_account(), 5, now, hasher)
    locked_until = account.locked_until
    outcome = attempt(account, WRONG, now + timedelta(minutes=50), hasher)
    assert outcome.account.locked_until == locked_until
    assert not outcome.locked_now


def test_unlock_after_the_hour_and_counter_starts_again(make_account, now, hasher):
    account, _ = fail_n_times(make_account(), 5, now, hasher)
    after = account.locked_until
    assert not accounts.is_locked(account, after)
    assert attempt(account, PASSWORD, after, hasher).ok

    one_more = attempt(account, WRONG, after, hasher)
    assert one_more.reason is SignInReason.WRONG_PASSWORD
    assert one_more.account.failed_attempts == 1
    assert one_more.account.locked_until is None


def test_lock_is_checked_against_the_injected_clock(make_account, now, hasher):
    account, _ = fail_n_times(make_account(), 5, now, hasher)
    just_before = account.locked_until - timedelta(microseconds=1)
    assert not attempt(account, PASSWORD, just_before, hasher).ok
    assert attempt(account, PASSWORD, account.locked_until, hasher).ok


def _failure_cases(make_account, now, hasher):
    good = make_account()
    locked, _ = fail_n_times(make_account(), 5, now, hasher)
    deactivated = accounts.deactivate(make_account(), now).state
    unverified = make_account(verified=False)
    return {
        SignInReason.UNKNOWN_ACCOUNT: (None, PASSWORD),
        SignInReason.WRONG_PASSWORD: (good, WRONG),
        SignInReason.ACCOUNT_LOCKED: (locked, PASSWORD),
        SignInReason.ACCOUNT_DEACTIVATED: (deactivated, PASSWORD),
        SignInReason.ACCOUNT_NOT_VERIFIED: (unverified, PASSWORD),
    }


def test_no_enumeration_every_failure_looks_the_same(make_account, now, hasher):
    bodies = {}
    for reason, (account, password) in _failure_cases(make_account, now, hasher).items():
        outcome = attempt(account, password, now + timedelta(minutes=1), hasher)
        assert outcome.reason is reason
        bodies[reason] = outcome.error.to_dict()
    assert len({repr(body) for body in bodies.values()}) == 1
    assert next(iter(bodies.values())) == {
        "code": "INVALID_CREDENTIALS",
        "message": "Identifiant ou mot de passe incorrect.",
        "details": {},
    }


def test_every_failure_path_costs_exactly_one_argon2_verification(make_account, now, hasher):
    for reason, (account, password) in _failure_cases(make_account, now, hasher).items():
        before = hasher.verifications
        attempt(account, password, now + timedelta(minutes=1), hasher)
        assert hasher.verifications - before == 1, reason


def test_blocked_accounts_do_not_count_failures(make_account, now, hasher):
    deactivated = accounts.deactivate(make_account(), now).state
    outcome = attempt(deactivated, WRONG, now, hasher)
    assert outcome.account.failed_attempts == 0


def test_every_failure_on_an_existing_account_is_stored(make_account, now, hasher):
    """A blocked account costs the same write as a counted failure (no timing oracle); the
    service layer pays an equivalent write for an unknown address (SignInDecoys)."""
    later = now + timedelta(minutes=1)
    for reason, (account, password) in _failure_cases(make_account, now, hasher).items():
        outcome = attempt(account, password, later, hasher)
        if account is None:
            assert outcome.account is None, reason
            continue
        assert outcome.changed, reason
        assert outcome.account.last_failed_sign_in_at == later, reason


@pytest.fixture
def totp_account(make_account, now):
    account, _ = start_totp_enrolment(make_account(), now)
    return confirm_totp_enrolment(account, totp.code_at(account.totp.secret, now), now)


def test_totp_required_after_the_right_password_only(totp_account, now, hasher):
    later = now + timedelta(minutes=5)
    missing = attempt(totp_account, PASSWORD, later, hasher)
    assert missing.error.code is ErrorCode.TOTP_REQUIRED
    assert missing.account.failed_attempts == 0
    wrong_password = attempt(totp_account, WRONG, later, hasher)
    assert wrong_password.error.code is ErrorCode.INVALID_CREDENTIALS


def test_totp_code_signs_in_once(totp_account, now, hasher):
    later = now + timedelta(minutes=5)
    code = totp.code_at(totp_account.totp.secret, later)
    first = attempt(totp_account, PASSWORD, later, hasher, code)
    assert first.ok
    replay = attempt(first.account, PASSWORD, later + timedelta(seconds=5), hasher, code)
    assert replay.error.code is ErrorCode.TOTP_INVALID
    assert replay.reason is SignInReason.TOTP_INVALID
    assert replay.account.failed_attempts == 1


def test_wrong_totp_codes_lead_to_the_lock(totp_account, now, hasher):
    account = totp_account
    for i in range(5):
        account = attempt(
            account,
            PASSWORD,
            now + timedelta(minutes=5, seconds=i),
            hasher,
            "000000" if i % 2 else "999999",
        ).account
    assert accounts.is_locked(account, now + timedelta(minutes=6))


def test_rehash_on_sign_in_when_parameters_changed(make_account, now):
    account = make_account()
    stronger = PasswordHasher(Argon2Params(time_cost=2, memory_cost=16, parallelism=1))
    outcome = sign_in_decision(account, PASSWORD, None, now, hasher=stronger)
    assert outcome.ok
    assert outcome.account.password_hash != account.password_hash
    assert "m=16,t=2,p=1" in outcome.account.password_hash
    assert stronger.verify(outcome.account.password_hash, PASSWORD)


def test_metric_labels_do_not_tell_whether_an_address_has_an_account(make_account, now, hasher):
    """Regression: ``reason="UNKNOWN_ACCOUNT"`` on the public /metrics told it."""
    from chorale_identity.metrics import public_labels

    labels = {
        reason: public_labels(attempt(account, password, now + timedelta(minutes=1), hasher))
        for reason, (account, password) in _failure_cases(make_account, now, hasher).items()
    }
    assert set(labels.values()) == {("failed", "INVALID_CREDENTIALS")}, labels
