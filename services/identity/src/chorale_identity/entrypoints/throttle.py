"""The rate limits of ``chorale_identity.rate_limits`` applied to HTTP requests: which
buckets each kind of request takes from, and the client address it is counted against."""

from __future__ import annotations

from fastapi import Request

from chorale_identity.rate_limits import Limiter, Rate, TokenBuckets, client_address, parse_networks
from chorale_identity.settings import IdentitySettings


def _identifier(email: str) -> str:
    """The account identifier as typed, normalised the cheap way (no validation: an invalid
    address is counted like any other)."""
    return (email or "").strip().lower()[:254]


class Throttle:
    def __init__(self, settings: IdentitySettings):
        self._trusted = parse_networks(settings.trusted_proxies)

        def buckets(rate: str) -> TokenBuckets:
            return TokenBuckets(Rate.parse(rate), settings.rate_limit_max_keys)

        guessing = buckets(settings.rate_sign_in_per_address)  # password guesses, any endpoint
        self.sign_ins = Limiter(
            address=guessing, account=buckets(settings.rate_sign_in_per_account)
        )
        self.registrations = Limiter(
            address=buckets(settings.rate_registration_per_address),
            account=buckets(settings.rate_registration_per_account),
        )
        self.mails = Limiter(
            address=buckets(settings.rate_mail_per_address),
            account=buckets(settings.rate_mail_per_account),
        )
        self.reauths = Limiter(address=guessing, account=buckets(settings.rate_reauth_per_account))

    def address(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.getlist("x-forwarded-for"), self._trusted)

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
