"""« Mes approbations » (identity's `GET /v1/me/approbations`): what the portal asks for the
menu of every signed-in person (at most once per 20 s per session) and for the Approbations
screen. 10,000 structures known to identity (1,000 with --quick), each with its gestionnaire
principal (one person for 5 structures) and two rattachements (one waiting, one valid);
20 gestionnaires ask at once, 10 times each. Printed: p95 of the use case (server-side, on
the real database), target 150 ms. On FerretDB the lists by structure and the GPs by user
come from identity's memory of them (adapters/rattachements.py), loaded at start.

    make bench BENCH_ARGS="approbations"
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from harness import Context, Figure, percentile

from chorale_identity.adapters.documents import to_document
from chorale_identity.adapters.rattachements import LIVE_KEY, live_key
from chorale_identity.bootstrap import build_context
from chorale_identity.domain import rattachements as domain
from chorale_identity.domain.gestionnaire import GestionnairePrincipal, GpOrigin
from chorale_identity.domain.rattachements import RattachementStatus
from chorale_identity.service_layer.approbations import ApprobationFilter, my_approbations
from chorale_identity.settings import IdentitySettings
from chorale_runtime.logging import configure
from chorale_runtime.mongo import connect
from chorale_runtime.outbox import new_document
from chorale_runtime.serialized import SerializedDatabase

USERS, ROUNDS, PER_GP = 20, 10, 5
TARGET_MS = 150


async def _seed(db, count: int) -> None:
    gps_count = count // PER_GP
    now = datetime.now(UTC)
    structures, gps, links = [], [], []
    for i in range(count):
        sid = f"{i:014d}"
        gp = f"gp-{i % gps_count}"
        structures.append({"_id": sid, "raisonSociale": f"COMMUNE {i}",
                           "typeStructure": "PUBLIQUE", "statut": "ACTIVE"})
        gps.append(GestionnairePrincipal(identifiant_structure=sid, user_id=gp,
                                         origin=GpOrigin.OPERATEUR, designated_by="ops",
                                         since=now))
        waiting = domain.request_rattachement(user_id=f"agent-{i}", identifiant_structure=sid,
                                              now=now, existing=()).state
        valid = domain.approve(domain.request_rattachement(
            user_id=f"agent-{i}-b", identifiant_structure=sid, now=now, existing=()).state,
            decided_by=gp, now=now).state
        links += [waiting, valid]
    await db["known_structures"].insert_many(structures)
    await db["gestionnaires"].insert_many([new_document(
        {"_id": g.identifiant_structure, "version": 1, **to_document(g)}, ()) for g in gps])
    await db["rattachements"].insert_many([new_document(
        {"_id": r.id, "version": 1, **to_document(r), LIVE_KEY: live_key(r)}, ())
        for r in links])


async def run(ctx_: Context) -> list[Figure]:
    infra = ctx_.infra()
    configure("identity", "WARNING", "console", stream=sys.stderr)
    count = 1_000 if ctx_.quick else 10_000
    settings = IdentitySettings(
        KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap, MONGODB_URI=infra.mongodb_uri,
        mongodb_database=f"bench_approbations_{uuid.uuid4().hex[:8]}")
    client = connect(settings.mongodb_uri.get_secret_value(), "bench-approbations")
    latencies: list[float] = []
    try:
        db = SerializedDatabase(client[settings.database_name])
        ctx = build_context(db, settings)
        started = time.perf_counter()
        await _seed(client[settings.database_name], count)
        started_loading = time.perf_counter()
        await ctx.rattachements.load_memory()  # what the service does at start
        await ctx.gestionnaires.load_memory()
        await ctx.structures.load_memory()
        print(f"  memory of rattachements and GPs loaded in "
              f"{time.perf_counter() - started_loading:.1f} s")
        print(f"  {count:,} structures, {count // PER_GP:,} GPs, {2 * count:,} rattachements "
              f"seeded in {time.perf_counter() - started:.1f} s")
        wanted = ApprobationFilter(etats=(RattachementStatus.EN_COURS_DE_VALIDATION,))

        async def gestionnaire(n: int) -> None:
            me = SimpleNamespace(id=f"gp-{n}")  # the use case reads the account's id only
            for _ in range(ROUNDS):
                began = time.perf_counter()
                managed, rows, waiting = await my_approbations(ctx, me, wanted)
                latencies.append(time.perf_counter() - began)
                assert len(managed) == PER_GP and waiting == len(rows) == len(managed)

        await gestionnaire(0)  # warm-up
        latencies.clear()
        await asyncio.gather(*(gestionnaire(n) for n in range(USERS)))
    finally:
        await client.drop_database(settings.database_name)
        await client.close()
    return [Figure(f"Mes approbations, {USERS} gestionnaires at once: p95",
                   percentile(latencies, 95) * 1000, "ms", target=TARGET_MS,
                   higher_is_better=False),
            Figure("  same: median", percentile(latencies, 50) * 1000, "ms",
                   higher_is_better=False)]
