"""The portal's screens under 20 simultaneous signed-in users, with 10,000 structures and their
services in the database (1,000 with --quick).

Starts the structures service and the portal as their own processes on the real Kafka and
database, imports the structures (2 services each) through the operator's import, opens 20
sessions in the portal's store (operators' tokens from a test signing key: identity is not
needed for these screens), then 20 clients walk the screens of part 1 concurrently. Per
screen: p95 of the server-side time (target < 150 ms) and the portal's own share, read from
each answer's `Server-Timing` (`api`: waiting for the services, `portail`: the rest).
The list and search screens are measured for one user, twice: they are the structures
service's search over every structure, which on FerretDB scans the collection (seconds per
thousand structures): 20 users at once would only queue behind it.

    make bench BENCH_ARGS="portal"            # or: uv run python bench/run.py portal
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench_structures import serve_jwks, siret
from harness import Figure, percentile
from pymongo import AsyncMongoClient

from chorale_portal.adapters.session_store import SESSIONS
from chorale_portal.domain.secrets import new_secret, record_id, seal
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

USERS = 20
TARGET_MS = 150
TIMING = re.compile(r"(api|portail);dur=(-?[0-9.]+)")
HEADER = "type;identifiant;raisonSociale;ville;codePostal;codeService;libelle;dateDebutActivation"


def reference(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i in range(count):
            sid = siret(i)
            out.write(f"STRUCTURE;{sid};COMMUNE DE TEST {i};VILLE {i % 3000};"
                      f"{10000 + i % 85000:05d};;;\n")
            for code in ("COMPTA", "TECHNIQUE"):
                out.write(f"SERVICE;{sid};;;;{code};Service {code};2020-01-01\n")


def list_screens(i: int) -> dict[str, str]:
    return {
        "structures (liste)": "/structures",
        "structures (recherche)": f"/structures?raisonSociale=TEST+{i % 1000}&ville=VILLE",
    }


def screens(sid: str, i: int) -> dict[str, str]:
    return {
        "accueil": "/",
        "structure": f"/structures/{sid}",
        "modifier la structure": f"/structures/{sid}/modifier",
        "paramètres": f"/structures/{sid}/parametres",
        "services": f"/structures/{sid}/services",
        "nouveau service": f"/structures/{sid}/services/nouveau",
        "coordonnées bancaires": f"/structures/{sid}/coordonnees-bancaires",
        "pièces jointes": f"/structures/{sid}/pieces-jointes",
    }


async def open_sessions(mongo_uri: str, database: str, tokens: TokenFactory) -> list[str]:
    """What a sign-in leaves in the portal's store, for USERS operators."""
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    now = datetime.now(UTC)
    secrets = []
    try:
        for n in range(USERS):
            secret = new_secret()
            sealed = seal(secret, {"access": tokens.token(f"bench-op-{n}", roles=("operator",),
                                                          ttl=7200),
                                   "refresh": "unused", "accessExpiresAt": time.time() + 7200})
            await client[database][SESSIONS].insert_one({
                "_id": record_id(secret), "sealed": sealed,
                "user": {"id": f"bench-op-{n}", "prenom": "Opérateur", "nom": str(n),
                         "roles": ["operator"]},
                "createdAt": now, "endsAt": now + timedelta(hours=12), "lastSeenAt": now,
                "expiresAt": now + timedelta(hours=2)})
            secrets.append(secret)
    finally:
        await client.close()
    return secrets


async def walk(base: str, secret: str, sids: list[str], rounds: int,
               seen: dict[str, list[tuple[float, float]]], pages=screens) -> None:
    rng = random.Random(secret)
    async with httpx.AsyncClient(base_url=base, cookies={"chorale_session": secret},
                                 timeout=600) as client:
        for _ in range(rounds):
            i = rng.randrange(len(sids))
            for name, path in pages(sids[i], i).items():
                answer = await client.get(path)
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {answer.status_code}")
                timing = dict(TIMING.findall(answer.headers["server-timing"]))
                seen.setdefault(name, []).append((float(timing["api"]),
                                                  float(timing["portail"])))


async def run(ctx) -> list[Figure]:
    infra = ctx.infra()
    count = 1_000 if ctx.quick else 10_000
    rounds = 3 if ctx.quick else 10
    tokens = TokenFactory()
    jwks_server, jwks_url = serve_jwks(tokens)
    namespace = Namespace("bench" + uuid.uuid4().hex[:8])
    with tempfile.TemporaryDirectory(prefix="chorale-bench-portal-") as tmp:
        folder = Path(tmp)
        reference(folder / "referentiel.csv", count)
        structures = ServiceProcess("chorale_structures", service_env(
            infra, namespace, "structures", CHORALE_JWKS_URL=jwks_url,
            CHORALE_IMPORT_DIR=str(folder / "imports"), CHORALE_LOG_LEVEL="WARNING"),
            free_port(), folder / "structures.log").start()
        portal_env = service_env(infra, namespace, "portal", CHORALE_LOG_LEVEL="WARNING",
                                 CHORALE_SERVICE_TIMEOUT_SECONDS="600",
                                 CHORALE_STRUCTURES_URL=structures.base_url,
                                 CHORALE_IDENTITY_URL="http://127.0.0.1:9",
                                 # the header's rights and badge: not measured here
                                 CHORALE_HABILITATIONS_URL="http://127.0.0.1:9",
                                 CHORALE_NOTIFICATIONS_URL="http://127.0.0.1:9")
        portal = ServiceProcess("chorale_portal", portal_env, free_port(),
                                folder / "portal.log").start()
        try:
            await asyncio.gather(wait_ready(structures.base_url, 120),
                                 wait_ready(portal.base_url, 120))
            await _import(structures.base_url, folder / "referentiel.csv",
                          tokens.operator("bench-importer"), count)
            secrets = await open_sessions(infra.mongodb_uri,
                                          portal_env["CHORALE_MONGODB_DATABASE"], tokens)
            sids = [siret(i) for i in range(count)]
            seen: dict[str, list[tuple[float, float]]] = {}
            await walk(portal.base_url, secrets[0], sids, 1, {})  # warm-up
            alone: dict[str, list[tuple[float, float]]] = {}
            await walk(portal.base_url, secrets[0], sids, 3, alone)
            started = time.perf_counter()
            await asyncio.gather(*[walk(portal.base_url, s, sids, rounds, seen)
                                   for s in secrets])
            elapsed = time.perf_counter() - started
            # The list and the search are the structures service's search over every
            # structure (an operator's view): one user, a few times, not 20 at once.
            await walk(portal.base_url, secrets[0], sids, 2, seen,
                       pages=lambda _sid, i: list_screens(i))
        except Exception:
            print("  portal's log:\n" + portal.logs()[-1500:])
            print("  structures' log:\n" + structures.logs()[-1500:])
            raise
        finally:
            portal.terminate()
            structures.terminate()
            jwks_server.shutdown()
    pages = sum(len(v) for name, v in seen.items() if name not in list_screens(0))
    print(f"  {count:,} structures, {USERS} users, {pages:,} pages in {elapsed:.1f} s "
          f"({pages / elapsed:.0f} pages/s); lists and searches: 1 user, 2 rounds")
    figures = []
    for name, samples in seen.items():
        total = [api + own for api, own in samples]
        figures.append(Figure(f"{name}: p95 server-side", percentile(total, 95), "ms",
                              target=TARGET_MS, higher_is_better=False))
    own_alone = [o for samples in alone.values() for _, o in samples]
    figures.append(Figure("portal's own time per page, 1 user (median)",
                          statistics.median(own_alone), "ms", higher_is_better=False))
    own = [o for samples in seen.values() for _, o in samples]
    figures.append(Figure(f"portal's own time per page, {USERS} users (median)",
                          statistics.median(own), "ms", higher_is_better=False))
    figures.append(Figure(f"portal's own time per page, {USERS} users (p95)",
                          percentile(own, 95), "ms", higher_is_better=False))
    return figures


async def _import(base: str, path: Path, headers: dict[str, str], count: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        answer = await client.post("/v1/structures/imports?nomFichier=referentiel.csv",
                                   content=path.read_bytes(),
                                   headers={**headers, "Content-Type": "text/csv"})
        answer.raise_for_status()
        job = answer.json()["idImport"]
        while True:
            report = (await client.get(f"/v1/structures/imports/{job}", headers=headers)).json()
            if report["statut"] in ("TERMINE", "ECHEC"):
                break
            await asyncio.sleep(0.5)
    if report["statut"] != "TERMINE" or report["lignes"]["creees"] < count:
        raise RuntimeError(f"import did not create every structure: {report}")
