"""Authorization decision latency (issue 5: p99 < 5 ms on the local read-model path).

The read model of a service (`authz_users`, `authz_gestionnaires`) is loaded with 10,000 users
× 4 grants and 2,000 gestionnaires principaux on the real database, then 50 concurrent callers
ask `Authorizer.decide` for random users and structures (allowed and refused alike):

- through the in-process cache, warm (the normal path of every service);
- the same while another "replica" changes 20 grants a second (invalidations through the
  change feed, re-reads of what changed);
- straight from the database, cache off, for comparison (what each decision cost before the
  cache: a few reads per decision, 50 at a time, on FerretDB);
- end to end over HTTP: `GET /v1/decisions` of the habilitations service run as its own
  process, one client then 50 concurrent clients from this process (latency as the client
  sees it: its own httpx work, the network stack, JWT check, FastAPI, the decision; client and
  service share the machine's cores).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from harness import Figure, percentile
from pymongo import AsyncMongoClient

from chorale_contracts.events.common import Application, Mode
from chorale_contracts.events.habilitations import HabilitationChanged
from chorale_runtime.auth import Principal
from chorale_runtime.authz import AccessRequest, Authorizer, AuthzReadModel
from chorale_runtime.authz.read_model import GESTIONNAIRES, USERS
from chorale_runtime.serialized import SerializedDatabase
from chorale_runtime.testing.servers import (
    ServiceProcess,
    free_port,
    serve_in_process,
    wait_ready,
)
from chorale_runtime.testing.tokens import TokenFactory

USERS_N, GRANTS_PER_USER, STRUCTURES_N, CONCURRENCY = 10_000, 4, 2_000, 50
APPS = list(Application)


def _seed(rng: random.Random) -> tuple[list[dict], list[dict]]:
    users = []
    for i in range(USERS_N):
        grants = {}
        for j in range(GRANTS_PER_USER):
            gid = f"g{i}-{j}"
            grants[gid] = {
                "structure": f"S{rng.randrange(STRUCTURES_N)}",
                "codeService": None if j % 2 else f"SVC{j}",
                "application": APPS[rng.randrange(len(APPS))].value,
                "mode": rng.choice(list(Mode)).value,
                "version": 1,
            }
        users.append({"_id": f"user-{i}", "grants": grants})
    gps = [
        {"_id": f"S{s}", "userId": f"user-{rng.randrange(USERS_N)}"} for s in range(STRUCTURES_N)
    ]
    return users, gps


def _request(rng: random.Random) -> tuple[str, AccessRequest]:
    user = f"user-{rng.randrange(USERS_N)}"
    request = AccessRequest(
        f"S{rng.randrange(STRUCTURES_N)}", APPS[rng.randrange(len(APPS))], rng.choice(list(Mode))
    )
    return user, request


async def _load(
    one: Callable[[random.Random], Awaitable[None]],
    calls: int = 0,
    seconds: float = 0.0,
    concurrency: int = CONCURRENCY,
) -> tuple[list[float], float]:
    """`calls` calls of `one` (or as many as fit in `seconds`) by `concurrency` callers, each
    yielding to the loop between calls; latencies (ms) and calls per second."""
    latencies: list[float] = []
    per_caller = max(1, calls // concurrency)
    deadline = time.perf_counter() + seconds

    async def caller(seed: int) -> None:
        rng, done = random.Random(seed), 0
        while (done < per_caller) if not seconds else (time.perf_counter() < deadline):
            started = time.perf_counter()
            await one(rng)
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1
            await asyncio.sleep(0)  # let the other callers, the feed and the churn run

    started = time.perf_counter()
    await asyncio.gather(*[caller(i) for i in range(concurrency)])
    return latencies, len(latencies) / (time.perf_counter() - started)


def _figures(label: str, latencies: list[float], rate: float, target: float | None = 5.0):
    return [
        Figure(f"{label}: p50", percentile(latencies, 50), "ms", None, higher_is_better=False),
        Figure(f"{label}: p99", percentile(latencies, 99), "ms", target, higher_is_better=False),
        Figure(f"{label}: throughput", rate, "decisions/s"),
    ]


async def _churn(model: AuthzReadModel, stop: asyncio.Event, writers: int = 4) -> int:
    """Grant changes applied by another replica as fast as the database takes them."""
    changes = 0

    async def writer(seed: int) -> None:
        nonlocal changes
        rng, version = random.Random(seed), 1
        while not stop.is_set():
            i = rng.randrange(USERS_N)
            version += 1
            await model.put_grant(
                HabilitationChanged(
                    grantId=f"g{i}-{seed}",
                    userId=f"user-{i}",
                    structure="S0",
                    codeService=None,
                    application=Application.ORGANISATION,
                    mode=Mode.MODIFICATION,
                    previousMode=Mode.CONSULTATION,
                    version=version,
                )
            )
            changes += 1

    await asyncio.gather(*[writer(k) for k in range(writers)])
    return changes


async def run(ctx) -> list[Figure]:
    infra = ctx.infra()
    db_name = f"bench_habil_{uuid.uuid4().hex[:8]}"
    reader_client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    writer_client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    db = SerializedDatabase(reader_client[db_name])
    figures: list[Figure] = []
    calls = 2_000 if ctx.quick else 20_000
    try:
        users, gps = _seed(random.Random(1))
        started = time.perf_counter()
        for k in range(0, len(users), 1000):
            await db[USERS].insert_many(users[k : k + 1000])
        await db[GESTIONNAIRES].insert_many(gps)
        print(
            f"  loaded {USERS_N:,} users × {GRANTS_PER_USER} grants, {STRUCTURES_N:,} GPs "
            f"in {time.perf_counter() - started:.1f} s"
        )

        model = AuthzReadModel(db)
        authorizer = Authorizer(model)
        started = time.perf_counter()
        await model.cache.wait_following(timeout=120, warmed=True)
        figures.append(
            Figure(
                "cache warm-up (one scan of the read model)",
                time.perf_counter() - started,
                "s",
                higher_is_better=False,
            )
        )

        async def decide(rng: random.Random) -> None:
            user, request = _request(rng)
            await authorizer.decide(Principal(user, "user"), request)

        figures += _figures("cached, 50 callers", *await _load(decide, calls))

        stop = asyncio.Event()
        writer = AuthzReadModel(SerializedDatabase(writer_client[db_name]), cache=False)
        churn = asyncio.create_task(_churn(writer, stop))
        seconds = 5 if ctx.quick else 15
        latencies, rate = await _load(decide, seconds=seconds)
        stop.set()
        changed = await churn
        figures += _figures("cached, 50 callers, another replica changing grants", latencies, rate)
        figures.append(Figure("  grant changes applied meanwhile", changed / seconds, "changes/s"))

        direct = Authorizer(AuthzReadModel(db, cache=False))

        async def decide_direct(rng: random.Random) -> None:
            user, request = _request(rng)
            await direct.decide(Principal(user, "user"), request)

        # For comparison only (what the cache saves): decisions never run without it.
        figures += _figures(
            "database only (cache off, for comparison), 50 callers",
            *await _load(decide_direct, 100 if ctx.quick else 500),
            target=None,
        )
        figures += await _http(infra, db_name, 1_000 if ctx.quick else 5_000)
    finally:
        await reader_client.drop_database(db_name)
        await reader_client.close()
        await writer_client.close()
    return figures


async def _http(infra, db_name: str, calls: int) -> list[Figure]:
    """The service as its own process (`python -m chorale_habilitations`), its token keys
    served from here; the load comes from this process."""
    from fastapi import FastAPI

    tokens = TokenFactory()
    keys = FastAPI()
    keys.get("/jwks")(lambda: tokens.jwks())
    headers = tokens.operator()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with serve_in_process(keys) as keys_url, httpx.AsyncClient(limits=limits) as http:
        service = ServiceProcess(
            "chorale_habilitations",
            {
                "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
                "MONGODB_URI": infra.mongodb_uri,
                "CHORALE_MONGODB_DATABASE": db_name,
                "CHORALE_TOPIC_PREFIX": f"{db_name}.",
                "CHORALE_JWKS_URL": f"{keys_url}/jwks",
                "CHORALE_LOG_LEVEL": "WARNING",
            },
            free_port(),
            Path(tempfile.gettempdir()) / f"{db_name}-habilitations.log",
        ).start()
        try:
            await wait_ready(service.base_url, timeout=120)

            async def ask(rng: random.Random) -> None:
                user, request = _request(rng)
                response = await http.get(
                    f"{service.base_url}/v1/decisions",
                    headers=headers,
                    params={
                        "userId": user,
                        "structure": request.structure,
                        "application": request.application.value,
                        "mode": request.mode.value,
                    },
                )
                assert response.status_code == 200, response.text

            await _until_warm(ask)
            single = _figures(
                "HTTP GET /v1/decisions, 1 client", *await _load(ask, 300, concurrency=1), None
            )
            before = await _server_time(http, service.base_url)
            loaded = _figures("HTTP GET /v1/decisions, 50 clients", *await _load(ask, calls), None)
            after = await _server_time(http, service.base_url)
            mean = (after[0] - before[0]) / max(1, after[1] - before[1]) * 1000
            return [
                *single,
                *loaded,
                Figure(
                    "  of which inside the service (mean, its own histogram)",
                    mean,
                    "ms",
                    higher_is_better=False,
                ),
            ]
        finally:
            service.terminate()


async def _server_time(http: httpx.AsyncClient, base: str) -> tuple[float, float]:
    """Seconds spent and requests served by the service on /v1/decisions (from /metrics)."""
    text = (await http.get(f"{base}/metrics")).text
    total = count = 0.0
    for line in text.splitlines():
        if 'route="/v1/decisions"' in line and line.startswith(
            "chorale_http_request_duration_seconds_"
        ):
            value = float(line.rsplit(" ", 1)[1])
            if line.startswith("chorale_http_request_duration_seconds_sum"):
                total = value
            elif line.startswith("chorale_http_request_duration_seconds_count"):
                count = value
    return total, count


async def _until_warm(ask: Callable[[random.Random], Awaitable[None]]) -> None:
    """The service's cache loads on its first decision: wait until answers come from memory
    (20 sequential answers with a median under 20 ms)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        latencies, _ = await _load(ask, 20, concurrency=1)
        if percentile(latencies, 50) < 20:
            return
    raise TimeoutError("the service's decision cache did not warm up")
