"""The one retry helper: doubling back-off, stop on request, context in its log line."""

from __future__ import annotations

import asyncio

import pytest

from chorale_runtime.retry import Backoff, RetryPolicy, until_done


def test_delays_double_up_to_the_maximum():
    assert [Backoff(0.1, 0.5).delay(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert RetryPolicy(3, 0.2, 1.0).delay(3) == 0.8


async def test_a_step_is_retried_until_it_succeeds():
    calls: list[int] = []
    seen: list[str] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("away")

    done = await until_done(flaky, backoff=Backoff(0.001, 0.002), failed="thing_failed",
                            step="record", on_failure=lambda exc: seen.append(str(exc)))
    assert done and len(calls) == 3 and seen == ["away", "away"]


async def test_stopping_gives_up_after_a_failure_and_cancellation_is_no_failure():
    async def broken() -> None:
        raise ConnectionError("away")

    assert not await until_done(broken, backoff=Backoff(), failed="f", stopping=lambda: True)

    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):  # not retried
        await until_done(cancelled, backoff=Backoff(), failed="f")
