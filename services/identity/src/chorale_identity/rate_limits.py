"""Rate limits on the endpoints a stranger can hammer: sign-in, registration, password reset
and verification mails, and the re-authentication of « Mon compte ».

Each limit is a token bucket (``Rate``: ``count`` requests per ``seconds``, refilled
continuously, bursts up to ``count``), counted per client address AND per account identifier
(the e-mail as typed, normalised; the user id once signed in). Refused requests cost nothing
more (no argon2id, no database) and are answered ``429 RATE_LIMITED`` with ``Retry-After``.
The identifier's bucket is the same whether or not an account exists: a limit says nothing
about the address either.

The buckets live in the process: with several replicas each counts on its own, so the
effective limit is the configured one times the replicas (sticky routing by client address
at the load balancer keeps the per-address limit exact). At most ``max_keys`` buckets per
limit are kept; beyond that the least recently used is forgotten (a forgotten bucket is a full
one, which an idle bucket would be anyway).

The client address is the socket peer. ``X-Forwarded-For`` is believed only when the peer is
one of the trusted proxies (``CHORALE_TRUSTED_PROXIES``): then the client is the rightmost
address that is not itself a trusted proxy (what the outermost trusted proxy saw).
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from chorale_runtime.errors import ApiError

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``seconds``; ``count`` 0 switches the limit off."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.match(text or "")
        if not match or float(match.group(2)) <= 0:
            raise ValueError(f"rate {text!r}: expected '<count>/<seconds>', e.g. '30/60'")
        return cls(int(match.group(1)), float(match.group(2)))


class RateLimited(ApiError):
    def __init__(self, retry_after: float):
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            "RATE_LIMITED",
            f"Trop de tentatives : réessayez dans {seconds} seconde{'s' if seconds > 1 else ''}.",
            429,
            {"retryAfter": seconds},
        )
        self.headers = {"Retry-After": str(seconds)}


class TokenBuckets:
    def __init__(
        self, rate: Rate, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ):
        self.rate = rate
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def peek(self, key: str) -> float:
        """Seconds until ``key`` may pass (0.0: now), taking nothing."""
        if self.rate.count <= 0 or key not in self._buckets:
            return 0.0
        tokens, at = self._buckets[key]
        refill = self.rate.count / self.rate.seconds
        tokens = min(float(self.rate.count), tokens + (self._clock() - at) * refill)
        return 0.0 if tokens >= 1 else (1 - tokens) / refill

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if allowed, else the seconds until one is back."""
        capacity = self.rate.count
        if capacity <= 0:
            return 0.0
        refill = capacity / self.rate.seconds
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(capacity), now))
        tokens = min(float(capacity), tokens + (now - at) * refill)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / refill
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def parse_networks(text: str) -> Networks:
    """Comma-separated addresses or CIDR networks (``10.0.0.1, 192.168.0.0/16``)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _within(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted: Networks) -> str:
    """The address to count a request against (see the module docstring)."""
    peer = peer or "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return hops[0] if hops else peer


class Limiter:
    """Several buckets checked together: the first that refuses decides the answer.
    ``refused(name)`` is called for each refusal (metrics)."""

    def __init__(
        self, refused: Callable[[str], None] = lambda _name: None, **buckets: TokenBuckets
    ):
        self.buckets = buckets
        self._refused = refused

    def check(self, **keys: str | None) -> None:
        for name, key in keys.items():
            if key is None:
                continue
            wait = self.buckets[name].take(key)
            if wait > 0:
                self._refused(name)
                raise RateLimited(wait)
