"""For tests and benchmarks: an active account written straight through the repository, when
the registration journey itself is not what is being measured or tested."""

from __future__ import annotations

import asyncio

from chorale_identity.domain import accounts
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.service_layer.context import IdentityContext


async def active_account(
    ctx: IdentityContext, email: str, password: str, prenom: str = "Paul", nom: str = "Durand"
) -> UserAccount:
    registered = await asyncio.to_thread(
        accounts.register,
        login_email=email,
        password=password,
        prenom=prenom,
        nom=nom,
        now=ctx.now(),
        hasher=ctx.hasher,
    )
    account = accounts.verify_email(registered.state, ctx.now()).state
    await ctx.accounts.claim_login(account.login_email, account.id, ctx.now())
    await ctx.accounts.add(account, [], {})
    return account
