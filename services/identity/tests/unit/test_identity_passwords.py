import argon2
import pytest

from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.passwords import (
    DEFAULT_PARAMS,
    Argon2Params,
    PasswordHasher,
    check_password,
    validate_password,
)


@pytest.mark.parametrize(
    "password",
    ["Correct-Horse-42", "été à la plage 2025", "ABCDEFGH1234!", "quatre mots au hasard 7"],
)
def test_strong_passwords_pass(password):
    assert check_password(password, email="jeanne.martin@ville.fr") == []


def test_short_password_says_how_long_it_is():
    reasons = check_password("Ab1!")
    assert reasons == ["au moins 12 caractères (actuellement 4)"]


def test_missing_classes_are_named_in_french():
    [reason] = check_password("abcdefghijklmnop")
    assert "manquants : majuscules, chiffres, caractères spéciaux" in reason


def test_password_containing_email_local_part_is_refused():
    reasons = check_password("Jeanne.Martin-2025", email="jeanne.martin@ville.fr")
    assert reasons == ["ne pas contenir l'identifiant de l'adresse électronique"]


def test_common_password_is_refused_case_insensitively():
    assert "ne pas être un mot de passe courant" in check_password("MotDePasse123!")


def test_all_reasons_are_reported_together():
    with pytest.raises(DomainError) as caught:
        validate_password("jeanne", email="jeanne@ville.fr")
    error = caught.value
    assert error.code is ErrorCode.PASSWORD_TOO_WEAK
    assert len(error.details["manquants"]) == 3
    assert error.message.startswith("Le mot de passe doit comporter : au moins 12 caractères")


def test_overlong_password_is_refused():
    assert "au plus 256 caractères" in check_password("Aa1!" * 70)


def test_default_parameters_are_the_documented_ones():
    assert DEFAULT_PARAMS == Argon2Params(time_cost=2, memory_cost=65536, parallelism=1)
    hashed = PasswordHasher().hash("Correct-Horse-42")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=2,p=1$")


def test_hash_verify_and_mismatch(hasher):
    hashed = hasher.hash("Correct-Horse-42")
    assert hashed != "Correct-Horse-42"
    assert hasher.verify(hashed, "Correct-Horse-42")
    assert not hasher.verify(hashed, "Correct-Horse-43")
    assert not hasher.verify("not a hash", "Correct-Horse-42")


def test_needs_rehash_when_parameters_change(hasher):
    old = hasher.hash("Correct-Horse-42")
    assert not hasher.needs_rehash(old)
    stronger = PasswordHasher(Argon2Params(time_cost=2, memory_cost=16, parallelism=1))
    assert stronger.needs_rehash(old)
    assert stronger.needs_rehash("garbage")


def test_dummy_verification_never_succeeds_and_costs_a_real_verification(hasher):
    before = hasher.verifications
    assert hasher.dummy_verify("") is False
    assert hasher.verifications == before + 1
    dummy_params = argon2.extract_parameters(hasher._dummy_hash)
    real_params = argon2.extract_parameters(hasher.hash("x"))
    assert dummy_params == real_params


def test_two_classes_are_not_enough():
    [reason] = check_password("abcdefgh12345678")
    assert "manquants : majuscules, caractères spéciaux" in reason
    assert check_password("abcdefgh1234567!") == []
