"""The rate limits of ``chorale_identity.rate_limits`` applied to HTTP requests: which
buckets each kind of request takes from, and the client address it is counted against.

Besides the buckets, each client address may have at most ``rate_concurrent_per_address``
requests that pay argon2id in progress at once (``argon2_turn``; others wait up to a second,
then ``429``): a burst from one address then holds at most that many of the argon2id slots,
and a person signing in from another address finds one free after at most one verification.
A request takes its bucket token before it waits for its turn, so a flood empties its bucket
at once and is then refused ahead of the framework (``EarlyRefusal``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import Request

from chorale_identity import metrics
from chorale_identity.rate_limits import (
    Limiter,
    Rate,
    RateLimited,
    TokenBuckets,
)
from chorale_identity.settings import IdentitySettings
from chorale_runtime.client_address import client_address, parse_networks

TURN_WAIT = 1.0  # seconds a request waits for its address's argon2id place


@dataclass
class _Turn:
    places: asyncio.Semaphore
    users: int = 0  # holding or waiting


REAUTH_PATHS = ("password", "deactivate", "contact-email", "totp", "totp/disable")


def _identifier(email: str) -> str:
    """The account identifier as typed, normalised the cheap way (no validation: an invalid
    address is counted like any other)."""
    return (email or "").strip().lower()[:254]


class Throttle:
    def __init__(self, settings: IdentitySettings):
        self._trusted = parse_networks(settings.trusted_proxies)
        self._concurrent = settings.rate_concurrent_per_address
        self._turns: dict[str, _Turn] = {}

        def buckets(rate: str) -> TokenBuckets:
            return TokenBuckets(Rate.parse(rate), settings.rate_limit_max_keys)

        def limiter(kind: str, **kinds: TokenBuckets) -> Limiter:
            def refused(name: str) -> None:
                metrics.RATE_LIMITED.labels(metrics.SERVICE, f"{kind}_per_{name}").inc()

            return Limiter(refused, **kinds)

        guessing = buckets(settings.rate_sign_in_per_address)  # password guesses, any endpoint
        self.sign_ins = limiter(
            "sign_in", address=guessing, account=buckets(settings.rate_sign_in_per_account)
        )
        self.registrations = limiter(
            "registration",
            address=buckets(settings.rate_registration_per_address),
            account=buckets(settings.rate_registration_per_account),
        )
        self.mails = limiter(
            "mail",
            address=buckets(settings.rate_mail_per_address),
            account=buckets(settings.rate_mail_per_account),
        )
        self.reauths = limiter(
            "reauth", address=guessing, account=buckets(settings.rate_reauth_per_account)
        )
        # Per-address buckets by path, for ``EarlyRefusal``.
        self.address_buckets: dict[str, TokenBuckets] = {
            "/v1/auth/login": guessing,
            "/v1/users": self.registrations.buckets["address"],
            "/v1/users/verification/resend": self.mails.buckets["address"],
            "/v1/auth/password-reset": self.mails.buckets["address"],
            "/v1/auth/password-reset/confirm": self.mails.buckets["address"],
            **{f"/v1/me/{path}": guessing for path in REAUTH_PATHS},
        }

    def busy(self, address: str) -> bool:
        """This address has as many argon2id requests in progress or waiting as it may have
        in progress: its next one can only wait."""
        turn = self._turns.get(address)
        return bool(self._concurrent) and turn is not None and turn.users >= self._concurrent

    def address(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return self.address_of(peer, request.headers.getlist("x-forwarded-for"))

    def address_of(self, peer: str | None, forwarded_for: list[str]) -> str:
        return client_address(peer, forwarded_for, self._trusted)

    @contextlib.asynccontextmanager
    async def argon2_turn(self, request: Request) -> AsyncIterator[None]:
        """Wait (at most ``TURN_WAIT`` seconds, then 429) for one of this address's places,
        and hold it for the argon2id work of the request. Concurrent honest requests from
        one address (an office behind one router) queue briefly; a flood is refused."""
        if not self._concurrent:
            yield
            return
        address = self.address(request)
        turn = self._turns.get(address)
        if turn is None:
            turn = self._turns[address] = _Turn(asyncio.Semaphore(self._concurrent))
        turn.users += 1
        try:
            try:
                async with asyncio.timeout(TURN_WAIT):
                    await turn.places.acquire()
            except TimeoutError:
                metrics.RATE_LIMITED.labels(metrics.SERVICE, "concurrent_per_address").inc()
                raise RateLimited(1.0) from None
            try:
                yield
            finally:
                turn.places.release()
        finally:
            turn.users -= 1
            if not turn.users:
                del self._turns[address]

    def sign_in(self, request: Request, email: str) -> None:
        self.sign_ins.check(address=self.address(request), account=_identifier(email))

    def registration(self, request: Request, email: str) -> None:
        self.registrations.check(address=self.address(request), account=_identifier(email))

    def mail(self, request: Request, email: str | None) -> None:
        """Reset and verification mails (per address and e-mail), reset confirmations (per
        address: each one pays argon2id)."""
        account = _identifier(email) if email is not None else None
        self.mails.check(address=self.address(request), account=account)

    def reauthentication(self, request: Request, user_id: str) -> None:
        self.reauths.check(address=self.address(request), account=user_id)
