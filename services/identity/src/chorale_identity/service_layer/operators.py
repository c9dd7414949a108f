"""Back-office operators, bootstrapped from the command line (``chorale_identity.admin``).

Idempotent: an operator that exists is left as it is (its password untouched); an ordinary
account with that login is refused unless ``promote`` is asked for explicitly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from chorale_identity.adapters.documents import AlreadyExists
from chorale_identity.domain import accounts
from chorale_identity.domain.accounts import OPERATOR, UserAccount
from chorale_identity.domain.validation import normalise_email
from chorale_identity.service_layer.context import IdentityContext
from chorale_identity.service_layer.events import Cause, events_of
from chorale_identity.service_layer.my_account import change_account
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class Outcome(StrEnum):
    CREATED = "CREATED"
    ALREADY_OPERATOR = "ALREADY_OPERATOR"
    PROMOTED = "PROMOTED"
    NOT_AN_OPERATOR = "NOT_AN_OPERATOR"


@dataclass(frozen=True)
class OperatorResult:
    outcome: Outcome
    account: UserAccount


def _promote(account: UserAccount) -> UserAccount:
    return account.model_copy(update={"roles": (*account.roles, OPERATOR)})


async def bootstrap_operator(
    ctx: IdentityContext,
    *,
    email: str,
    password: str,
    prenom: str,
    nom: str,
    promote: bool = False,
    cause: Cause,
) -> OperatorResult:
    existing = await ctx.accounts.by_login(normalise_email(email))
    if existing is None:
        transition = await asyncio.to_thread(
            accounts.create_operator,
            login_email=email,
            password=password,
            prenom=prenom,
            nom=nom,
            now=ctx.now(),
            hasher=ctx.hasher,
        )
        account = transition.state
        owner = await ctx.accounts.claim_login(account.login_email, account.id, ctx.now())
        account = account.model_copy(update={"id": owner})
        try:
            await ctx.accounts.add(account, events_of(transition, cause, ctx.now()), {})
        except AlreadyExists:
            return await bootstrap_operator(
                ctx,
                email=email,
                password=password,
                prenom=prenom,
                nom=nom,
                promote=promote,
                cause=cause,
            )
        log.info("operator_created", user_id=account.id)
        return OperatorResult(Outcome.CREATED, account)
    account = existing.value
    if account.is_operator:
        return OperatorResult(Outcome.ALREADY_OPERATOR, account)
    if not promote:
        return OperatorResult(Outcome.NOT_AN_OPERATOR, account)
    promoted = await change_account(ctx, account.id, _promote)
    log.info("operator_promoted", user_id=account.id)
    return OperatorResult(Outcome.PROMOTED, promoted)
