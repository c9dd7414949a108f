from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from chorale_identity.domain import accounts
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.passwords import Argon2Params, PasswordHasher

PASSWORD = "Correct-Horse-42"
T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


class CountingHasher(PasswordHasher):
    """Counts argon2 verifications, real or dummy, to check every path costs the same."""

    def __init__(self, params: Argon2Params) -> None:
        super().__init__(params)
        self.verifications = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return super().verify(password_hash, password)


@pytest.fixture(scope="session")
def hasher() -> CountingHasher:
    return CountingHasher(Argon2Params.fast_for_tests())


@pytest.fixture
def now() -> datetime:
    return T0


@pytest.fixture
def make_account(hasher: PasswordHasher) -> Callable[..., UserAccount]:
    def make(
        *, verified: bool = True, email: str = "Jeanne.Martin@Ville-Exemple.fr", **kwargs: Any
    ) -> UserAccount:
        account = accounts.register(
            login_email=email,
            password=kwargs.pop("password", PASSWORD),
            prenom="Jeanne",
            nom="Martin",
            now=kwargs.pop("now", T0),
            hasher=hasher,
            **kwargs,
        ).state
        if verified:
            account = accounts.verify_email(account, T0).state
        return account

    return make
