"""Refuse a flooding address before any framework work (ASGI, ahead of every middleware).

Once an address's bucket for a path is empty, each further request of the flood would still
cost the framework's routing, validation, logging and error rendering: a flood takes CPU from
honest sign-ins (figures in docs/MEASUREMENTS.md). This
middleware looks at the bucket without taking from it and, while it is empty, answers the
same ``429 RATE_LIMITED`` with ``Retry-After`` in a few dozen microseconds. (A request takes
its token before it waits for its address's argon2id turn, so a flood empties its bucket in
a fraction of a second and is refused here from then on.) While the bucket
has tokens the request goes through, and the route takes its token as usual.
"""

from __future__ import annotations

import json
import math

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from chorale_identity import metrics
from chorale_identity.entrypoints.throttle import Throttle
from chorale_identity.rate_limits import RateLimited


class EarlyRefusal:
    def __init__(self, app: ASGIApp, throttle: Throttle):
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            buckets = self.throttle.address_buckets.get(scope["path"])
            if buckets is not None:
                client = scope.get("client")
                forwarded = Headers(scope=scope).getlist("x-forwarded-for")
                address = self.throttle.address_of(client[0] if client else None, forwarded)
                wait = buckets.peek(address)
                if wait > 0:
                    metrics.RATE_LIMITED.labels(metrics.SERVICE, "early_per_address").inc()
                    await _drain(receive)
                    await _refuse(send, wait)
                    return
        await self.app(scope, receive, send)


async def _drain(receive: Receive, limit: int = 64 * 1024) -> None:
    """Read the (small) request body, so the connection can carry the next request."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _refuse(send: Send, wait: float) -> None:
    error = RateLimited(wait)
    body = json.dumps(
        {"code": error.code, "message": error.message, "details": error.details},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(max(1, math.ceil(wait))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
