"""The contact e-mail is only ever an address someone proved they read (issue 14: account
takeover through the contact e-mail)."""

from datetime import timedelta

import pytest

from chorale_identity.domain import accounts, contact_email, events
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.verification import ACCOUNT_PURPOSES, LinkPurpose

LOGIN = "jeanne.martin@ville-exemple.fr"


def test_a_contact_address_given_at_registration_waits_for_its_own_link(make_account):
    account = make_account(verified=False, contact_email="X@Evil.Example")
    assert account.contact_email == LOGIN  # where mail goes until the other is proven
    assert account.pending_contact_email == "x@evil.example"
    assert accounts.to_view(account).model_dump()["contactEmailEnAttente"] == "x@evil.example"


def test_a_contact_address_equal_to_the_login_needs_nothing(make_account):
    account = make_account(verified=False, contact_email="Jeanne.Martin@Ville-Exemple.fr")
    assert account.contact_email == LOGIN and account.pending_contact_email is None


def test_links_that_prove_or_recover_the_account_are_for_the_login_only():
    assert {LinkPurpose.EMAIL_VERIFICATION, LinkPurpose.PASSWORD_RESET} == ACCOUNT_PURPOSES
    assert LinkPurpose.CONTACT_EMAIL_VERIFICATION not in ACCOUNT_PURPOSES


def test_requesting_a_new_address_leaves_the_current_one_in_force(make_account, now):
    account = make_account()
    asked = contact_email.request_contact_email(account, "Compta@Ville.fr", now)
    assert asked.contact_email == LOGIN
    assert asked.pending_contact_email == "compta@ville.fr"
    assert contact_email.contact_email_changed(account, asked).event is None


def test_confirming_makes_it_the_contact_email_with_an_event(make_account, now):
    asked = contact_email.request_contact_email(make_account(), "compta@ville.fr", now)
    confirmed = contact_email.confirm_contact_email(
        asked, "compta@ville.fr", now + timedelta(minutes=1)
    )
    assert confirmed.state.contact_email == "compta@ville.fr"
    assert confirmed.state.pending_contact_email is None
    assert confirmed.event == events.USER_PROFILE_UPDATED


def test_a_link_for_an_address_no_longer_wanted_is_refused(make_account, now):
    first = contact_email.request_contact_email(make_account(), "a@ville.fr", now)
    second = contact_email.request_contact_email(first, "b@ville.fr", now)
    with pytest.raises(DomainError) as caught:
        contact_email.confirm_contact_email(second, "a@ville.fr", now)
    assert caught.value.code is ErrorCode.VERIFICATION_LINK_INVALID
    with pytest.raises(DomainError):
        contact_email.confirm_contact_email(make_account(), "a@ville.fr", now)  # nothing pending


def test_asking_for_the_current_address_cancels_a_pending_change(make_account, now):
    account = make_account()
    asked = contact_email.request_contact_email(account, "a@ville.fr", now)
    back = contact_email.request_contact_email(asked, LOGIN, now)
    assert back.pending_contact_email is None and back.contact_email == LOGIN


def test_going_back_to_the_login_takes_effect_at_once(make_account, now):
    confirmed = contact_email.confirm_contact_email(
        contact_email.request_contact_email(make_account(), "a@ville.fr", now), "a@ville.fr", now
    ).state
    back = contact_email.request_contact_email(confirmed, LOGIN.upper(), now)
    assert back.contact_email == LOGIN and back.pending_contact_email is None
    assert contact_email.contact_email_changed(confirmed, back).event == events.USER_PROFILE_UPDATED


def test_the_contact_email_cannot_be_changed_through_the_profile(make_account, now):
    with pytest.raises(TypeError):
        accounts.update_profile(make_account(), now, contact_email="x@evil.example")
