"""Retrying with doubling back-off: the one helper every service retries a transient failure
with (the broker or the database away for a while), so that delays, logs and cancellation
behave the same everywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chorale_runtime.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delays `first`, 2 × `first`, 4 × `first`… never above `maximum`."""

    first: float = 0.1
    maximum: float = 10.0

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1 for the first failure)."""
        return min(self.first * 2 ** (attempt - 1), self.maximum)


@dataclass(frozen=True)
class RetryPolicy:
    """A bounded number of retries with doubling back-off (consumers, the intake's flows)."""

    max_retries: int = 5
    backoff: float = 0.2
    backoff_max: float = 5.0

    def delay(self, attempt: int) -> float:
        return Backoff(self.backoff, self.backoff_max).delay(attempt)


async def until_done(
    step: Callable[[], Awaitable[Any]],
    /,
    *,
    backoff: Backoff,
    failed: str,
    stopping: Callable[[], bool] = lambda: False,
    on_failure: Callable[[Exception], None] = lambda exc: None,
    **context: Any,
) -> bool:
    """Run `step()` until it succeeds, waiting longer after each failure; True once done.

    Each failure is logged as the warning `failed` (with `context`, the error and the delay)
    and told to `on_failure` (metrics). False, without trying again, when `stopping()` holds
    after a failure: the caller leaves the work for the next start. A cancellation is never
    taken for a failure."""
    attempt = 0
    while True:
        try:
            await step()
            return True
        except Exception as exc:
            attempt += 1
            delay = backoff.delay(attempt)
            on_failure(exc)
            log.warning(failed, **context, error=str(exc)[:300],
                        error_type=type(exc).__name__, retry_in=delay)
        if stopping():
            return False
        await asyncio.sleep(delay)
