"""argon2id work, bounded: at most ``slots`` computations at once, each in a worker thread.

One verification costs a tenth of a second of one core or so and 64 MiB
(docs/MEASUREMENTS.md). Unbounded, a flood of sign-ins would
queue thousands of them in the thread pool (memory, and minutes of latency for everyone);
on the event loop it would stall every other request. So each computation first takes one of
``slots`` places (default: one per core); a request that cannot get one within ``max_wait``
seconds is answered ``503 SERVICE_BUSY`` with ``Retry-After`` instead of waiting in an
unbounded queue. The place is given back when the thread finishes, not when the request
does: a client that hangs up cannot leave argon2 running outside the bound.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any, TypeVar

from chorale_identity import metrics
from chorale_runtime.errors import ApiError

T = TypeVar("T")


class ServiceBusy(ApiError):
    def __init__(self, retry_after: float):
        super().__init__(
            "SERVICE_BUSY",
            "Le service est très sollicité ; réessayez dans quelques secondes.",
            503,
            {"retryAfter": math.ceil(retry_after)},
        )
        self.headers = {"Retry-After": str(math.ceil(retry_after))}


class PasswordWork:
    def __init__(self, slots: int, max_wait: float):
        self.slots = slots
        self.max_wait = max_wait
        self._free = asyncio.Semaphore(slots)
        self.waiting = 0

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.waiting += 1
        try:
            async with asyncio.timeout(self.max_wait):
                await self._free.acquire()
        except TimeoutError:
            metrics.ARGON2_REFUSED.labels(metrics.SERVICE).inc()
            raise ServiceBusy(max(1.0, self.max_wait)) from None
        finally:
            self.waiting -= 1
        loop = asyncio.get_running_loop()

        def work() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                loop.call_soon_threadsafe(self._free.release)

        # shield: a cancelled request must not cancel a thread that has not started yet (its
        # place would never come back); the thread runs to its end and releases it.
        return await asyncio.shield(asyncio.to_thread(work))
