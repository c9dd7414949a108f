"""Identity: sign-ins per second through the use case (argon2id at the service's real cost,
account read and write on the real database), access-token verifications per second on
the verifying side (``chorale_runtime.auth.TokenVerifier``, what every other service runs),
and an honest sign-in's latency while one address floods sign-in at 200/s
(``identity_flood.py``; goal: under a second, printed, not a timed test)."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from harness import Context, Figure, percentile
from identity_flood import LIMITS_OFF, describe, flood

from chorale_identity.bootstrap import build_context
from chorale_identity.service_layer import sessions
from chorale_identity.settings import IdentitySettings
from chorale_runtime.auth import TokenVerifier
from chorale_runtime.logging import configure
from chorale_runtime.mongo import connect
from chorale_runtime.serialized import SerializedDatabase
from chorale_testkit.identity_accounts import active_account

PASSWORD = "Correct-Horse-42!"


async def _account(ctx) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@exemple.fr"
    await active_account(ctx, email, PASSWORD)
    return email


async def _sign_ins(ctx, emails: list[str], per_user: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one_user(email: str) -> None:
        for _ in range(per_user):
            started = time.perf_counter()
            await sessions.sign_in(ctx, email, PASSWORD, None)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one_user(e) for e in emails))
    return len(latencies) / (time.perf_counter() - started), latencies


async def run(ctx_: Context) -> list[Figure]:
    infra = ctx_.infra()
    configure("identity", "WARNING", "console", stream=sys.stderr)  # no line per sign-in
    settings = IdentitySettings(
        KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap,
        MONGODB_URI=infra.mongodb_uri,
        mongodb_database=f"bench_identity_{uuid.uuid4().hex[:8]}",
    )
    params = settings.argon2_params
    label = (
        f"argon2id t={params.time_cost} m={params.memory_cost // 1024}MiB p={params.parallelism}"
    )
    print(f"  password hashing: {label} (the service's defaults)")
    client = connect(settings.mongodb_uri.get_secret_value(), "bench-identity")
    try:
        db = SerializedDatabase(client[settings.database_name])
        ctx = build_context(db, settings)
        per_user = 5 if ctx_.quick else 20
        emails = [await _account(ctx) for _ in range(4)]
        await sessions.sign_in(ctx, emails[0], PASSWORD, None)  # warm up: key ring, pools

        serial, serial_lat = await _sign_ins(ctx, emails[:1], per_user)
        parallel, _ = await _sign_ins(ctx, emails, per_user // 2)

        issued = [await sessions.sign_in(ctx, e, PASSWORD, None) for e in emails]
        keyset = await ctx.keys.keyset()
        verifier = TokenVerifier(
            None, issuer="chorale-identity", audience="chorale", jwks=keyset.jwks()
        )
        rounds = 2_000 if ctx_.quick else 20_000
        tokens = [i.access.token for i in issued]
        for token in tokens:
            await verifier.verify(token)
        started = time.perf_counter()
        for n in range(rounds):
            await verifier.verify(tokens[n % len(tokens)])
        verifications = rounds / (time.perf_counter() - started)

        env = {
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
            "MONGODB_URI": infra.mongodb_uri,
            "CHORALE_MONGODB_DATABASE": settings.database_name,
            "CHORALE_TOPIC_PREFIX": f"bench-{uuid.uuid4().hex[:6]}.",
            "CHORALE_LOG_LEVEL": "WARNING",
        }
        seconds = 6 if ctx_.quick else 15
        limited = await flood(env, emails[0], PASSWORD, seconds)
        print(f"  flood, default limits: {describe(*limited)}")
        unlimited = await flood({**env, **LIMITS_OFF}, emails[1], PASSWORD, 6)
        print(f"  flood, limits off (comparison): {describe(*unlimited)}")
    finally:
        await client.drop_database(settings.database_name)
        await client.close()
    return [
        Figure(f"sign-ins/s, one at a time ({label})", serial, "/s", target=4),
        Figure(
            "sign-in latency p50, one at a time",
            percentile(serial_lat, 50) * 1000,
            "ms",
            target=250,
            higher_is_better=False,
        ),
        Figure(
            "sign-in latency p95, one at a time",
            percentile(serial_lat, 95) * 1000,
            "ms",
            target=400,
            higher_is_better=False,
        ),
        Figure("sign-ins/s, 4 concurrent (argon2id in threads)", parallel, "/s", target=4),
        Figure("token verifications/s (runtime TokenVerifier)", verifications, "/s", target=2_000),
        Figure(
            "honest sign-in during a 200/s flood, worst",
            max(limited[0]) * 1000,
            "ms",
            target=1000,
            higher_is_better=False,
        ),
        Figure(
            "  same, limits off (comparison only)",
            max(unlimited[0]) * 1000,
            "ms",
        ),
    ]
