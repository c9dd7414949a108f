"""FastAPI dependencies shared by identity's routers.

``principal``: a valid access token whose account, if it is a person's, is not closed (a
token outlives nothing but its account). ``user``: a person's token and their active account.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from chorale_identity.domain.accounts import AccountStatus, UserAccount
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.entrypoints.throttle import Throttle
from chorale_identity.service_layer.context import IdentityContext
from chorale_identity.service_layer.events import Cause
from chorale_runtime.auth import Principal
from chorale_runtime.http import correlation_id_of
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


async def after_answer(work: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Run ``work`` after the answer was sent (``BackgroundTasks``), logging any failure:
    the client has been answered already, the operator must still see it."""
    try:
        await work(*args)
    except Exception:
        log.exception("work_after_answer_failed", work=getattr(work, "__name__", "?"))


def cause_of(request: Request) -> Cause:
    return Cause(correlation_id_of(request))


class Deps:
    """The use cases' context and the dependencies routers declare as parameter defaults."""

    def __init__(self, ctx: IdentityContext, principal: Any, user: Any):
        self.ctx = ctx
        self.principal = principal
        self.user = user
        self.cause: Any = Depends(cause_of)
        self.throttle = Throttle(ctx.settings)

    def argon2_route(self, limit: Callable[[Request, dict[str, Any]], None]) -> Callable:
        """For the routes that pay argon2id (they take ``request``): first ``limit`` (the
        rate-limit buckets, given the request and the handler's arguments), then the address's
        turn (one request at a time per client address). The turn is given back when the
        handler returns, before the answer is sent, so the same client's next request never
        finds it still taken."""

        def decorate(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            @functools.wraps(handler)
            async def guarded(*args: Any, **kwargs: Any) -> Any:
                request = kwargs["request"]
                limit(request, kwargs)
                async with self.throttle.argon2_turn(request):
                    return await handler(*args, **kwargs)

            return guarded

        return decorate


def build_deps(ctx: IdentityContext, verified: Callable[..., Awaitable[Principal]]) -> Deps:
    Verified = Annotated[Principal, Depends(verified)]

    async def principal(p: Verified) -> Principal:
        if not p.is_technical:
            stored = await ctx.accounts.get(p.subject)
            if stored is not None and stored.value.status is AccountStatus.DEACTIVATED:
                raise DomainError(ErrorCode.TOKEN_REVOKED)
        return p

    async def user(p: Verified) -> UserAccount:
        if p.is_technical:
            raise DomainError(
                ErrorCode.FORBIDDEN, "Un compte technique ne peut pas utiliser ce service."
            )
        stored = await ctx.accounts.get(p.subject)
        if stored is None or stored.value.status is not AccountStatus.ACTIVE:
            raise DomainError(ErrorCode.TOKEN_REVOKED)
        return stored.value

    return Deps(ctx, Depends(principal), Depends(user))
