"""Sensitive changes of « Mon compte » ask again for the current password (and the TOTP code
when the second factor is on): a stolen access token alone is not enough to change the
password, the contact e-mail or the second factor, or to close the account.

The proof is checked and the change stored in one compare-and-set of the account: a wrong
password or code is stored as a failed attempt (the sign-in lockout: 5 failures lock the
account for an hour), a right one clears the counter and the change is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.passwords import PasswordHasher
from chorale_identity.domain.sign_in import SignInOutcome, reauthentication_decision
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

Change = Callable[[UserAccount], Transition[UserAccount] | UserAccount]


@dataclass(frozen=True)
class Proof:
    """What the person typed again: the current password, and the TOTP code if any."""

    password: str
    totp: str | None = None

    def __repr__(self) -> str:
        return "Proof(password='***', totp='***')"


class OnceHasher:
    """One argon2id verification per stored hash, however many times the use case retries."""

    def __init__(self, inner: PasswordHasher):
        self._inner = inner
        self._results: dict[str, bool] = {}

    def verify(self, password_hash: str, password: str) -> bool:
        if password_hash not in self._results:
            self._results[password_hash] = self._inner.verify(password_hash, password)
        return self._results[password_hash]

    def dummy_verify(self, password: str) -> bool:
        return self._inner.dummy_verify(password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)

    def hash(self, password: str) -> str:
        return self._inner.hash(password)


async def change_with_proof(
    ctx: IdentityContext,
    user_id: str,
    proof: Proof,
    change: Change,
    cause: Cause | None = None,
    *,
    action: str,
) -> UserAccount:
    """Check ``proof``, then apply ``change`` (a pure function of the account: runs in the
    argon2 pool since it may hash) and store both in one write; raise the proof's error
    after storing the failed attempt otherwise."""
    hasher = OnceHasher(ctx.hasher)

    async def attempt() -> tuple[SignInOutcome, UserAccount]:
        stored = await ctx.accounts.get(user_id)
        if stored is None:
            raise DomainError(ErrorCode.TOKEN_INVALID)

        def decide() -> tuple[SignInOutcome, Transition[UserAccount] | None]:
            outcome = reauthentication_decision(
                stored.value,
                proof.password,
                proof.totp,
                ctx.now(),
                hasher=hasher,  # type: ignore[arg-type]
            )
            if not outcome.ok or outcome.account is None:
                return outcome, None
            result = change(outcome.account)
            return outcome, result if isinstance(result, Transition) else Transition(result, None)

        outcome, transition = await ctx.password_work.run(decide)
        if transition is None:
            if outcome.changed and outcome.account is not None:
                await ctx.accounts.save(stored, outcome.account)
            return outcome, stored.value
        if transition.state == stored.value:
            return outcome, stored.value
        events = events_of(transition, cause, ctx.now()) if cause else []
        return outcome, (await ctx.accounts.save(stored, transition.state, events)).value

    outcome, account = await retrying(attempt)
    if not outcome.ok:
        log.info(
            "reauthentication_refused",
            user_id=user_id,
            action=action,
            reason=outcome.reason.value,
            locked_now=outcome.locked_now,
        )
        assert outcome.error is not None
        raise outcome.error
    return account
