"""Re-authentication before sensitive changes counts toward the sign-in lockout (issue 14)."""

from datetime import timedelta

from chorale_identity.domain import accounts, totp
from chorale_identity.domain.errors import ErrorCode
from chorale_identity.domain.factors import confirm_totp_enrolment, start_totp_enrolment
from chorale_identity.domain.sign_in import (
    SignInReason,
    reauthentication_decision,
    sign_in_decision,
)

PASSWORD = "Correct-Horse-42"
WRONG = "Wrong-Horse-42"


def reauth(account, password, now, hasher, code=None):
    return reauthentication_decision(account, password, code, now, hasher=hasher)


def test_right_password_passes_and_clears_the_counter(make_account, now, hasher):
    account = reauth(make_account(), WRONG, now, hasher).account
    assert account.failed_attempts == 1
    outcome = reauth(account, PASSWORD, now, hasher)
    assert outcome.ok and outcome.changed
    assert outcome.account.failed_attempts == 0
    assert outcome.account.last_sign_in_at == account.last_sign_in_at  # not a sign-in


def test_five_wrong_passwords_lock_the_account_for_sign_in_too(make_account, now, hasher):
    account = make_account()
    for i in range(5):
        outcome = reauth(account, WRONG, now + timedelta(seconds=i), hasher)
        assert outcome.error.code is ErrorCode.INVALID_CREDENTIALS
        account = outcome.account
    assert outcome.locked_now
    later = now + timedelta(minutes=10)
    locked = reauth(account, PASSWORD, later, hasher)
    assert not locked.ok and locked.error.code is ErrorCode.ACCOUNT_LOCKED
    assert not sign_in_decision(account, PASSWORD, None, later, hasher=hasher).ok
    assert reauth(account, PASSWORD, now + timedelta(hours=1, seconds=5), hasher).ok


def test_sign_in_failures_and_reauthentication_failures_add_up(make_account, now, hasher):
    account = make_account()
    for _i in range(3):
        account = sign_in_decision(account, WRONG, None, now, hasher=hasher).account
    for _i in range(2):
        outcome = reauth(account, WRONG, now, hasher)
        account = outcome.account
    assert outcome.locked_now and accounts.is_locked(account, now)


def _with_totp(make_account, now):
    account, _ = start_totp_enrolment(make_account(), now)
    account = confirm_totp_enrolment(account, totp.code_at(account.totp.secret, now), now)
    return account


def test_with_totp_on_a_code_is_required_and_a_wrong_one_counts(make_account, now, hasher):
    account = _with_totp(make_account, now)
    later = now + timedelta(minutes=2)
    missing = reauth(account, PASSWORD, later, hasher)
    assert missing.error.code is ErrorCode.TOTP_REQUIRED and not missing.changed
    wrong = reauth(account, PASSWORD, later, hasher, code="000000")
    assert wrong.error.code is ErrorCode.TOTP_INVALID
    assert wrong.account.failed_attempts == 1
    code = totp.code_at(account.totp.secret, later)
    ok = reauth(account, PASSWORD, later, hasher, code=code)
    assert ok.ok and ok.account.totp.last_used_step == totp.current_step(later)
    replay = reauth(ok.account, PASSWORD, later, hasher, code=code)
    assert (
        replay.error.code is ErrorCode.TOTP_INVALID and replay.reason is SignInReason.TOTP_INVALID
    )


def test_a_wrong_password_with_a_right_code_is_a_wrong_password(make_account, now, hasher):
    account = _with_totp(make_account, now)
    later = now + timedelta(minutes=2)
    outcome = reauth(account, WRONG, later, hasher, code=totp.code_at(account.totp.secret, later))
    assert outcome.error.code is ErrorCode.INVALID_CREDENTIALS
    assert outcome.account.totp.last_used_step == account.totp.last_used_step  # code not used
