from datetime import timedelta

import pytest

from chorale_identity.domain import accounts, events
from chorale_identity.domain.accounts import AccountStatus
from chorale_identity.domain.errors import DomainError, ErrorCode

PASSWORD = "Correct-Horse-42"


def test_register_normalises_and_waits_for_verification(hasher, now):
    transition = accounts.register(
        login_email="  Jeanne.Martin@Ville-Exemple.FR ",
        password=PASSWORD,
        prenom=" Jeanne ",
        nom="Martin",
        telephone="01 23 45 67 89",
        now=now,
        hasher=hasher,
    )
    account = transition.state
    assert transition.event == events.USER_REGISTERED
    assert account.login_email == "jeanne.martin@ville-exemple.fr"
    assert account.contact_email == account.login_email
    assert account.prenom == "Jeanne"
    assert account.status is AccountStatus.PENDING_VERIFICATION
    assert account.roles == ()
    assert hasher.verify(account.password_hash, PASSWORD)
    assert account.created_at == account.updated_at == now


@pytest.mark.parametrize(
    "email",
    ["", "jeanne", "jeanne@", "@ville.fr", "a b@ville.fr", "jeanne@ville", "jeanne..m@ville.fr"],
)
def test_register_rejects_invalid_email(hasher, now, email):
    with pytest.raises(DomainError) as caught:
        accounts.register(
            login_email=email, password=PASSWORD, prenom="J", nom="M", now=now, hasher=hasher
        )
    assert caught.value.code is ErrorCode.EMAIL_INVALID


def test_register_enforces_password_policy(hasher, now):
    with pytest.raises(DomainError) as caught:
        accounts.register(
            login_email="j@ville.fr", password="court", prenom="J", nom="M", now=now, hasher=hasher
        )
    assert caught.value.code is ErrorCode.PASSWORD_TOO_WEAK


def test_register_refuses_naive_datetimes(hasher):
    from datetime import datetime

    with pytest.raises(ValueError):
        accounts.register(
            login_email="j@ville.fr",
            password=PASSWORD,
            prenom="J",
            nom="M",
            now=datetime(2025, 1, 1),
            hasher=hasher,
        )


def test_operator_is_active_with_the_operator_role(hasher, now):
    operator = accounts.create_operator(
        login_email="ops@chorale.example",
        password=PASSWORD,
        prenom="Op",
        nom="Erateur",
        now=now,
        hasher=hasher,
    ).state
    assert operator.status is AccountStatus.ACTIVE
    assert operator.roles == ("operator",)
    assert operator.is_operator


def test_verify_email_activates_once(make_account, now):
    pending = make_account(verified=False)
    first = accounts.verify_email(pending, now + timedelta(minutes=5))
    assert first.event == events.USER_VERIFIED
    assert first.state.status is AccountStatus.ACTIVE
    again = accounts.verify_email(first.state, now + timedelta(minutes=6))
    assert again.event is None and again.state == first.state


def test_update_profile_changes_only_what_is_given(make_account, now):
    account = make_account(mobile="06 12 34 56 78")
    later = now + timedelta(days=1)
    transition = accounts.update_profile(account, later, nom="Martin-Durand", telephone="")
    updated = transition.state
    assert transition.event == events.USER_PROFILE_UPDATED
    assert transition.details == {"champs": ["nom"]}
    assert updated.nom == "Martin-Durand"
    assert updated.contact_email == account.contact_email
    assert updated.mobile == "06 12 34 56 78"
    assert updated.login_email == account.login_email
    assert updated.updated_at == later


def test_update_profile_without_change_emits_nothing(make_account, now):
    account = make_account()
    assert accounts.update_profile(account, now, prenom="Jeanne").event is None


@pytest.mark.parametrize("change", [{"prenom": "  "}, {"telephone": "call me"}, {"nom": "x" * 101}])
def test_update_profile_validates(make_account, now, change):
    with pytest.raises(DomainError) as caught:
        accounts.update_profile(make_account(), now, **change)
    assert caught.value.code is ErrorCode.PROFILE_INVALID


def test_deactivation_is_final(make_account, now, hasher):
    transition = accounts.deactivate(make_account(), now)
    assert transition.event == events.USER_DEACTIVATED
    gone = transition.state
    assert gone.status is AccountStatus.DEACTIVATED
    assert accounts.deactivate(gone, now).event is None
    for action in (
        lambda: accounts.verify_email(gone, now),
        lambda: accounts.update_profile(gone, now, nom="X"),
        lambda: accounts.set_password(gone, "Another-Horse-43", now, hasher),
    ):
        with pytest.raises(DomainError) as caught:
            action()
        assert caught.value.code is ErrorCode.ACCOUNT_DEACTIVATED
    assert not accounts.can_sign_in(gone, now)


def test_set_password_rehashes_and_lifts_the_lock(make_account, now, hasher):
    account = make_account()
    for _ in range(5):
        account = accounts.record_failed_login(account, now)
    assert accounts.is_locked(account, now)
    transition = accounts.set_password(account, "Another-Horse-43", now, hasher)
    assert transition.event is None  # no such event in the contracts
    assert hasher.verify(transition.state.password_hash, "Another-Horse-43")
    assert not accounts.is_locked(transition.state, now)
    assert transition.state.failed_attempts == 0


def test_secrets_never_appear_in_repr_or_public_view(make_account, now):
    from chorale_identity.domain.factors import start_totp_enrolment

    account, _ = start_totp_enrolment(make_account(), now)
    assert account.password_hash not in repr(account)
    assert account.totp.secret not in repr(account)
    assert "password_hash" not in repr(account) and "totp=" not in repr(account)

    view = accounts.to_view(account)
    dumped = view.model_dump()
    serialised = view.model_dump_json()
    for secret in (account.password_hash, account.totp.secret):
        assert secret not in repr(view) and secret not in serialised
    assert set(dumped) == {
        "id",
        "loginEmail",
        "contactEmail",
        "contactEmailEnAttente",
        "prenom",
        "nom",
        "telephone",
        "mobile",
        "status",
        "roles",
        "totpEnabled",
        "createdAt",
        "updatedAt",
        "verifiedAt",
    }
    assert dumped["loginEmail"] == "jeanne.martin@ville-exemple.fr"


def test_account_round_trips_through_its_stored_form(make_account):
    account = make_account()
    stored = account.model_dump(mode="json")
    assert accounts.UserAccount.model_validate(stored) == account
