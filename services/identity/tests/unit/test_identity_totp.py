from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from chorale_identity.domain import totp
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.factors import (
    confirm_totp_enrolment,
    disable_totp,
    start_totp_enrolment,
)

STEP = timedelta(seconds=30)


@pytest.fixture
def factor(now):
    return totp.start_enrolment(now)


def code(factor, at):
    return totp.code_at(factor.secret, at)


def test_code_matches_a_standard_authenticator(factor, now):
    assert code(factor, now) == pyotp.TOTP(factor.secret).at(now)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_one_step_either_side_is_accepted(factor, now, offset):
    checked = totp.verify_code(factor, code(factor, now + offset * STEP), now)
    assert checked.last_used_step == totp.current_step(now) + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_outside_the_window_are_refused(factor, now, offset):
    with pytest.raises(DomainError) as caught:
        totp.verify_code(factor, code(factor, now + offset * STEP), now)
    assert caught.value.code is ErrorCode.TOTP_INVALID


def test_a_code_cannot_be_replayed_nor_an_older_one_used(factor, now):
    used = totp.verify_code(factor, code(factor, now), now)
    for attempt in (code(factor, now), code(factor, now - STEP)):
        with pytest.raises(DomainError) as caught:
            totp.verify_code(used, attempt, now + timedelta(seconds=10))
        assert caught.value.code is ErrorCode.TOTP_INVALID
    later = totp.verify_code(used, code(factor, now + STEP), now + STEP)
    assert later.last_used_step == used.last_used_step + 1


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes_are_refused(factor, now, bad):
    with pytest.raises(DomainError):
        totp.verify_code(factor, bad, now)


def test_spaces_in_a_code_are_tolerated(factor, now):
    spaced = code(factor, now)[:3] + " " + code(factor, now)[3:]
    assert totp.verify_code(factor, spaced, now).last_used_step == totp.current_step(now)


def test_enrolment_gives_a_provisioning_uri_and_needs_confirmation(make_account, now):
    account, uri = start_totp_enrolment(make_account(), now)
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parse_qs(parsed.query)["secret"] == [account.totp.secret]
    assert parse_qs(parsed.query)["issuer"] == ["Chorale"]
    assert not account.totp_enabled

    with pytest.raises(DomainError):
        confirm_totp_enrolment(
            account, "000000" if code(account.totp, now) != "000000" else "111111", now
        )
    confirmed = confirm_totp_enrolment(account, code(account.totp, now), now)
    assert confirmed.totp_enabled

    with pytest.raises(DomainError) as caught:
        start_totp_enrolment(confirmed, now)
    assert caught.value.code is ErrorCode.TOTP_ALREADY_ENABLED


def test_disabling_needs_a_fresh_code(make_account, now):
    account, _ = start_totp_enrolment(make_account(), now)
    confirmed = confirm_totp_enrolment(account, code(account.totp, now), now)
    with pytest.raises(DomainError):
        disable_totp(confirmed, code(account.totp, now), now)  # replay of the confirming code
    later = now + STEP
    assert disable_totp(confirmed, code(account.totp, later), later).totp is None


def test_confirming_without_enrolment(make_account, now):
    with pytest.raises(DomainError) as caught:
        confirm_totp_enrolment(make_account(), "123456", now)
    assert caught.value.code is ErrorCode.TOTP_NOT_ENROLLED
