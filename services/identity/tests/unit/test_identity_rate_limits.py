"""Flooding (issue 14): token buckets per address and per identifier, the client address
behind trusted proxies only, the argon2id floor, and the bounded argon2id pool."""

import asyncio

import pytest
from pydantic import ValidationError

from chorale_identity.domain.passwords import Argon2Params, below_owasp_minimum
from chorale_identity.rate_limits import (
    Limiter,
    Rate,
    RateLimited,
    TokenBuckets,
    client_address,
    parse_networks,
)
from chorale_identity.service_layer.password_work import PasswordWork, ServiceBusy
from chorale_identity.settings import IdentitySettings


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_allows_a_burst_then_one_per_interval():
    clock = Clock()
    buckets = TokenBuckets(Rate(3, 60), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(20)  # one token every 20 s
    assert buckets.take("b") == 0  # other keys have their own bucket
    clock.t += 20
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0


def test_refused_requests_do_not_dig_deeper():
    clock = Clock()
    buckets = TokenBuckets(Rate(1, 10), clock=clock)
    buckets.take("a")
    for _ in range(100):
        buckets.take("a")
    clock.t += 10
    assert buckets.take("a") == 0


def test_a_zero_rate_is_off_and_rates_are_parsed():
    assert TokenBuckets(Rate.parse("0/1")).take("a") == 0
    assert Rate.parse(" 30 / 60 ") == Rate(30, 60.0)
    for bad in ("30", "a/b", "3/0", ""):
        with pytest.raises(ValueError):
            Rate.parse(bad)


def test_buckets_are_bounded_forgetting_the_least_recently_used():
    clock = Clock()
    buckets = TokenBuckets(Rate(1, 60), max_keys=2, clock=clock)
    buckets.take("a")
    buckets.take("b")
    buckets.take("c")
    assert len(buckets) == 2
    assert buckets.take("a") == 0  # forgotten: full again
    assert buckets.take("c") > 0


def test_the_limiter_answers_429_with_retry_after():
    limiter = Limiter(address=TokenBuckets(Rate(1, 30)), account=TokenBuckets(Rate(5, 30)))
    limiter.check(address="1.2.3.4", account="x@y.fr")
    with pytest.raises(RateLimited) as caught:
        limiter.check(address="1.2.3.4", account="z@y.fr")
    error = caught.value
    assert (error.status, error.code) == (429, "RATE_LIMITED")
    assert error.headers == {"Retry-After": "30"} and error.details == {"retryAfter": 30}
    assert "réessayez dans 30 secondes" in error.message


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    proxies = parse_networks("10.0.0.0/8, 127.0.0.1")
    assert client_address("203.0.113.9", ["1.1.1.1"], proxies) == "203.0.113.9"
    assert client_address("10.0.0.2", ["198.51.100.7"], proxies) == "198.51.100.7"
    # A client cannot choose its address by sending the header itself: the rightmost entry
    # not added by a trusted proxy is what the outermost proxy saw.
    assert client_address("10.0.0.2", ["6.6.6.6, 198.51.100.7, 10.0.0.3"], proxies) == (
        "198.51.100.7"
    )
    assert client_address("10.0.0.2", [], proxies) == "10.0.0.2"
    assert client_address("127.0.0.1", ["1.1.1.1"], parse_networks("")) == "127.0.0.1"


def test_argon2_settings_below_the_owasp_minimum_are_refused():
    assert below_owasp_minimum(Argon2Params()) is None  # 64 MiB, t=2
    assert below_owasp_minimum(Argon2Params(time_cost=2, memory_cost=19456)) is None
    assert below_owasp_minimum(Argon2Params(time_cost=1, memory_cost=47104)) is None
    assert below_owasp_minimum(Argon2Params(time_cost=5, memory_cost=7168)) is None
    assert "OWASP" in below_owasp_minimum(Argon2Params(time_cost=1, memory_cost=19456))
    with pytest.raises(ValidationError, match="below the OWASP minimum"):
        IdentitySettings(argon2_memory_kib=8, argon2_time_cost=1)
    IdentitySettings(argon2_memory_kib=8, argon2_time_cost=1, argon2_insecure_for_tests=True)
    with pytest.raises(ValidationError):
        IdentitySettings(rate_sign_in_per_address="beaucoup")


async def test_argon2_work_is_bounded_and_the_excess_is_refused_not_queued():
    work = PasswordWork(slots=1, max_wait=0.05)
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow() -> str:
        asyncio.run_coroutine_threadsafe(gate.wait(), loop).result()
        return "done"

    first = asyncio.create_task(work.run(slow))
    await asyncio.sleep(0)
    with pytest.raises(ServiceBusy) as caught:
        await work.run(lambda: "never")
    assert caught.value.status == 503 and caught.value.headers["Retry-After"] == "1"
    gate.set()
    assert await first == "done"
    assert await work.run(lambda: "next") == "next"  # the slot came back


def _request(peer: str, forwarded: str | None = None):
    from starlette.requests import Request

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


async def test_one_argon2_request_at_a_time_per_client_address(monkeypatch):
    from chorale_identity.entrypoints import throttle as module

    monkeypatch.setattr(module, "TURN_WAIT", 0.05)
    throttle = module.Throttle(IdentitySettings())  # defaults: loopback is a trusted proxy
    flooder, honest = _request("127.0.0.1", "203.0.113.7"), _request("127.0.0.1", "198.51.100.2")
    async with throttle.argon2_turn(flooder):
        assert throttle.busy("203.0.113.7")
        with pytest.raises(RateLimited):  # waited its turn briefly, then refused
            async with throttle.argon2_turn(flooder):
                pass
        async with throttle.argon2_turn(honest):  # another address is not held up
            pass
    assert not throttle.busy("203.0.113.7")
    async with throttle.argon2_turn(flooder):  # the turn came back
        pass
    assert throttle.address(_request("192.0.2.1", "203.0.113.7")) == "192.0.2.1"  # untrusted


async def test_requests_from_one_address_queue_for_their_turn(monkeypatch):
    from chorale_identity.entrypoints import throttle as module

    throttle = module.Throttle(IdentitySettings())
    office = _request("127.0.0.1", "192.0.2.50")
    order = []

    async def sign_in(n: int) -> None:
        async with throttle.argon2_turn(office):
            order.append(n)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(sign_in(n) for n in range(3)))
    assert sorted(order) == [0, 1, 2]
