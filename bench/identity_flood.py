"""Identity under a sign-in flood (issue 14): 200 sign-ins/s from one client address against
``python -m chorale_identity`` with its real argon2id cost and default limits, while an honest
person signs in from another address once a second. Prints the honest sign-ins' latency
(the goal: under a second) and what the flood got back. Run twice: with the default limits,
and with the limits switched off, for comparison (the argon2id pool then is all that stands).

The client addresses travel in ``X-Forwarded-For``: the bench talks over loopback, which
identity trusts as a proxy by default (``CHORALE_TRUSTED_PROXIES``)."""

from __future__ import annotations

import asyncio
import collections
import json
import re
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from harness import percentile

from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready

FLOOD_RATE = 200  # requests per second, open loop
FLOODER, HONEST = "203.0.113.66", "198.51.100.20"
LIMITS_OFF = {
    f"CHORALE_RATE_{name}": "0/1"
    for name in (
        "SIGN_IN_PER_ADDRESS",
        "SIGN_IN_PER_ACCOUNT",
        "REGISTRATION_PER_ADDRESS",
        "REGISTRATION_PER_ACCOUNT",
        "MAIL_PER_ADDRESS",
        "MAIL_PER_ACCOUNT",
        "REAUTH_PER_ACCOUNT",
    )
} | {"CHORALE_RATE_CONCURRENT_PER_ADDRESS": "0"}


async def flood(
    env: dict[str, str], honest_email: str, password: str, seconds: float
) -> tuple[list[float], collections.Counter, float, list[float]]:
    """(honest sign-in latencies in s during the flood, flood answers by status, flood rate
    sent, honest sign-in latencies before the flood: the machine's own speed right now)."""
    log = Path(tempfile.mkdtemp(prefix="bench-identity-")) / "identity.log"
    process = ServiceProcess("chorale_identity", env, free_port(), log).start()
    try:
        await wait_ready(process.base_url, timeout=120)
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
        async with httpx.AsyncClient(base_url=process.base_url, timeout=30, limits=limits) as http:
            warm = await http.post(
                "/v1/auth/login",
                json={"email": honest_email, "password": password},
                headers={"X-Forwarded-For": HONEST},
            )
            assert warm.status_code == 200, warm.text
            quiet = []
            for _ in range(3):
                started = time.perf_counter()
                await http.post(
                    "/v1/auth/login",
                    json={"email": honest_email, "password": password},
                    headers={"X-Forwarded-For": HONEST},
                )
                quiet.append(time.perf_counter() - started)
            answers: collections.Counter = collections.Counter()
            host, port = "127.0.0.1", process.port

            async def flood_connection(worker: int, workers: int, started: float) -> int:
                # Hand-written HTTP/1.1 on a kept-alive connection: httpx costs the bench
                # process more CPU per request than the refusal costs the service, and the
                # loaded machine could not otherwise send 200 requests a second.
                reader, writer = await asyncio.open_connection(host, port)
                sent = 0
                try:
                    while True:
                        due = started + (sent * workers + worker) / FLOOD_RATE
                        if due - started >= seconds:
                            return sent
                        await asyncio.sleep(max(0.0, due - time.perf_counter()))
                        body = json.dumps(
                            {"email": f"x-{uuid.uuid4().hex[:8]}@exemple.fr", "password": "P4!"}
                        ).encode()
                        writer.write(
                            f"POST /v1/auth/login HTTP/1.1\r\nHost: {host}\r\n"
                            f"Content-Type: application/json\r\n"
                            f"Content-Length: {len(body)}\r\n"
                            f"X-Forwarded-For: {FLOODER}\r\n\r\n".encode()
                            + body
                        )
                        sent += 1
                        head = await reader.readuntil(b"\r\n\r\n")
                        status = head.split(b" ", 2)[1].decode()
                        length = re.search(rb"(?i)content-length: *(\d+)", head)
                        await reader.readexactly(int(length.group(1)) if length else 0)
                        answers[status] += 1
                except (OSError, asyncio.IncompleteReadError) as exc:
                    answers[type(exc).__name__] += 1
                    return sent
                finally:
                    writer.close()

            async def flooder() -> int:
                workers = 100
                started = time.perf_counter()
                sent = await asyncio.gather(
                    *(flood_connection(i, workers, started) for i in range(workers))
                )
                return sum(sent)

            async def honest() -> list[float]:
                latencies = []
                await asyncio.sleep(1.0)  # the flood is under way
                while len(latencies) < max(3, int(seconds) - 2):
                    started = time.perf_counter()
                    r = await http.post(
                        "/v1/auth/login",
                        json={"email": honest_email, "password": password},
                        headers={"X-Forwarded-For": HONEST},
                    )
                    latencies.append(time.perf_counter() - started)
                    assert r.status_code in (200, 503), r.text
                    if r.status_code != 200:
                        latencies[-1] = float("inf")
                    await asyncio.sleep(max(0.0, 1.0 - latencies[-1]))
                return latencies

            started = time.perf_counter()
            sent, latencies = await asyncio.gather(flooder(), honest())
            rate = sent / (time.perf_counter() - started)
        return latencies, answers, rate, quiet
    finally:
        process.terminate()


def describe(
    latencies: list[float], answers: collections.Counter, rate: float, quiet: list[float]
) -> str:
    worst = max(latencies)
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(answers.items(), key=str))
    return (
        f"honest sign-ins: {len(latencies)}, p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"worst {worst * 1000:.0f} ms (without flood, just before: p50 "
        f"{percentile(quiet, 50) * 1000:.0f} ms); flood sent {rate:.0f}/s, answered {{{shown}}}"
    )
