"""The structures service's list and search (`GET /v1/structures`, what the portal's
« Structures » screen calls) with 10,000 structures in the database (1,000 with --quick).

Starts the structures service as its own process on the real Kafka and database, imports the
structures through the operator's import, makes one person gestionnaire principal of a few
of them (written straight into the service's authorization read model, as the habilitations
events would), then 20 clients at once ask, in turn: an operator's list (every structure,
sorted by raison sociale), an operator's search (raison sociale and ville), the person's
« mes structures » and a search within them. p95 of the answer time per request kind
(target < 150 ms, issue 17), measured by the clients (HTTP on localhost included, each
client's connection opened beforehand). `--quick` or CHORALE_BENCH_SEARCH_USERS=1: one
client; CHORALE_BENCH_SEARCH_ROUNDS: rounds per client (5).

    uv run python bench/run.py structures_search
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from bench_portal import _import, reference
from bench_structures import serve_jwks, siret
from harness import Figure, percentile
from pymongo import AsyncMongoClient

from chorale_runtime.authz.read_model import GESTIONNAIRES, GESTIONNAIRES_BY_USER
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

TARGET_MS = 150
OWNED = 12  # structures the person administers


def requests_of(i: int) -> dict[str, tuple[str, dict]]:
    return {
        "liste (opérateur)": ("operator", {"tri": "raisonSociale", "page": 1 + i % 5}),
        "recherche (opérateur)": ("operator", {"raisonSociale": f"TEST {i % 1000}",
                                               "ville": "VILLE", "tri": "raisonSociale"}),
        "mes structures": ("person", {"tri": "raisonSociale"}),
        "recherche dans mes structures": ("person", {"raisonSociale": "test 1"}),
    }


async def _client(base: str, headers: dict[str, dict], rounds: int, seed: int,
                  seen: dict[str, list[float]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        # Its connection opened first: 20 connections at once are not what is measured.
        await client.get("/v1/structures", params={"identifiant": "0"},
                         headers=headers["operator"])
        for r in range(rounds):
            for name, (who, params) in requests_of(seed * rounds + r).items():
                started = time.perf_counter()
                answer = await client.get("/v1/structures", params={**params, "taille": 20},
                                          headers=headers[who])
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{params}: HTTP {answer.status_code} {answer.text}")
                if who == "person" and answer.json()["parametresRetour"]["total"] == 0:
                    raise RuntimeError("« mes structures » found nothing")
                seen.setdefault(name, []).append(elapsed)


async def run(ctx) -> list[Figure]:
    infra = ctx.infra()
    count = 1_000 if ctx.quick else 10_000
    users = 1 if ctx.quick else int(os.environ.get("CHORALE_BENCH_SEARCH_USERS", "20"))
    rounds = int(os.environ.get("CHORALE_BENCH_SEARCH_ROUNDS", "5"))
    tokens = TokenFactory()
    jwks_server, jwks_url = serve_jwks(tokens)
    namespace = Namespace("bench" + uuid.uuid4().hex[:8])
    database = namespace.database("structures")
    with tempfile.TemporaryDirectory(prefix="chorale-bench-search-") as tmp:
        folder = Path(tmp)
        reference(folder / "referentiel.csv", count)
        service = ServiceProcess("chorale_structures", service_env(
            infra, namespace, "structures", CHORALE_JWKS_URL=jwks_url,
            CHORALE_IMPORT_DIR=str(folder / "imports"), CHORALE_LOG_LEVEL="WARNING"),
            free_port(), folder / "structures.log").start()
        try:
            await wait_ready(service.base_url, 120)
            await _import(service.base_url, folder / "referentiel.csv",
                          tokens.operator("bench-importer"), count)
            mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
            try:
                owned = [siret(k * (count // OWNED)) for k in range(OWNED)]
                for structure in owned:
                    await mongo[database][GESTIONNAIRES].update_one(
                        {"_id": structure}, {"$set": {"userId": "bench-person"}}, upsert=True)
                await mongo[database][GESTIONNAIRES_BY_USER].update_one(
                    {"_id": "bench-person"}, {"$set": {"structures": owned}}, upsert=True)
            finally:
                await mongo.close()
            headers = {"operator": tokens.operator("bench-operator"),
                       "person": tokens.headers("bench-person")}
            await _client(service.base_url, headers, 1, 0, {})  # warm-up
            seen: dict[str, list[float]] = {}
            started = time.perf_counter()
            await asyncio.gather(*[_client(service.base_url, headers, rounds, n, seen)
                                   for n in range(users)])
            elapsed = time.perf_counter() - started
        except Exception:
            print("  structures' log:\n" + service.logs()[-1500:])
            raise
        finally:
            service.terminate()
            jwks_server.shutdown()
    asked = sum(len(v) for v in seen.values())
    print(f"  {count:,} structures, {users} clients at once, {asked} requests in "
          f"{elapsed:.1f} s")
    return [Figure(f"{name}: p95 ({users} clients)", percentile(times, 95), "ms",
                   target=TARGET_MS, higher_is_better=False)
            for name, times in seen.items()]
