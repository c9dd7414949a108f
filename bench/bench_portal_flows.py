"""« Suivi des flux » in the portal with 100,000 flows in the intake's database (10,000 with
--quick), 20 simultaneous signed-in users.

Writes the terminal flows straight into the intake's `flows` collection (as the intake stores
them: packed record and list row), across 50 partner structures, then starts the intake (it
loads its in-memory list at start-up: the load time is printed), habilitations and
notifications (the portal's header asks them) and the portal as their own processes on the
real Kafka and database. 20 operators' sessions walk the flow screens: a partner's first page,
the same filtered on « Rejeté », every partner's first page, one flow's CR. Per screen: p95 of
the server-side time (target < 150 ms), read from each answer's `Server-Timing`.

Then the intake's own list (`GET /v1/flows` of a partner, one client) served from memory, and
again after a restart with `CHORALE_FLOW_LIST=database` — what every list did before the
in-memory list: FerretDB 1.24 reads the whole collection for any filter but `_id`.

    make bench BENCH_ARGS="portal_flows"      # or: uv run python bench/run.py portal_flows
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench_portal import TARGET_MS, USERS, open_sessions, walk
from bench_structures import serve_jwks, siret
from harness import Figure, percentile
from pymongo import AsyncMongoClient

from chorale_intake.adapters.flow_store import FLOWS, LIST_ROW
from chorale_intake.domain.flow import ErreurDP, Etape, FactureIntegree, Flow
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

PARTNERS = 50
STATUSES = ("IN_INTEGRE", "IN_INTEGRE", "IN_INTEGRE", "IN_REJETE", "IN_INCIDENTE")


def flow(i: int, rng: random.Random, start: datetime) -> Flow:
    deposited = start + timedelta(seconds=i * 7)
    partner = siret(i % PARTNERS)
    status = STATUSES[rng.randrange(len(STATUSES))]
    number = f"FLX{deposited:%Y%m%d}-{i:026d}"
    invoice = FactureIntegree(
        invoiceId="FAC" + number[3:], numeroFacture=f"FA-{i}", dateFacture="2026-01-01",
        fournisseur=partner, destinataire="21100001500017", codeService="COMPTA",
        montantHT="100.00", montantTVA="20.00", montantTTC="120.00", devise="EUR")
    errors = (ErreurDP(code="SERVICE_CODE_REQUIRED", message="Le code service est obligatoire.",
                       numeroFacture=f"FA-{i}"),) if status == "IN_REJETE" else ()
    return Flow(
        numeroFluxDepot=number, canal="EDI" if i % 3 else "API",
        technicalAccountId=f"ta-{i % PARTNERS}", structurePartenaire=partner,
        nomFichier=f"facture-{i}.xml", syntaxeFlux="IN_DP_E1_UBL_INVOICE", statut=status,
        dateDepot=deposited, dateStatut=deposited + timedelta(seconds=1),
        historique=(Etape(statut="IN_RECU", date=deposited),
                    Etape(statut=status, date=deposited + timedelta(seconds=1))),
        tailleOctets=4096, empreinteSha256="0" * 64, listeErreurDP=errors,
        factures=(invoice,) if status == "IN_INTEGRE" else (),
        archive=f"{number}.xml", correlationId=uuid.uuid4().hex)


async def seed(mongo_uri: str, database: str, count: int) -> list[str]:
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=60)
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    numbers = []
    try:
        batch = []
        for i in range(count):
            f = flow(i, rng, start)
            batch.append({**f.to_document(), LIST_ROW: f.summary()})
            numbers.append(f.numeroFluxDepot)
            if len(batch) == 1000:
                await client[database][FLOWS].insert_many(batch, ordered=False)
                batch = []
        if batch:
            await client[database][FLOWS].insert_many(batch, ordered=False)
    finally:
        await client.close()
    return numbers


def flow_screens(numbers: list[str]):
    def pages(_sid: str, i: int) -> dict[str, str]:
        partner = siret(i % PARTNERS)
        return {
            "suivi des flux (un partenaire)": f"/suivi-des-flux?structure={partner}",
            "suivi des flux (rejetés)": f"/suivi-des-flux?structure={partner}&statut=IN_REJETE",
            "suivi des flux (tous)": "/suivi-des-flux",
            "compte rendu d'un flux": f"/suivi-des-flux/{numbers[i]}",
        }
    return pages


async def run(ctx) -> list[Figure]:
    infra = ctx.infra()
    count = 10_000 if ctx.quick else 100_000
    rounds = 3 if ctx.quick else 5
    tokens = TokenFactory()
    jwks_server, jwks_url = serve_jwks(tokens)
    namespace = Namespace("bench" + uuid.uuid4().hex[:8])
    processes: list[ServiceProcess] = []
    with tempfile.TemporaryDirectory(prefix="chorale-bench-flows-") as tmp:
        folder = Path(tmp)
        common = {"CHORALE_JWKS_URL": jwks_url, "CHORALE_LOG_LEVEL": "WARNING"}
        intake_env = service_env(infra, namespace, "invoice-intake", **common,
                                 CHORALE_EDI_ROOT=str(folder / "edi"),
                                 CHORALE_ARCHIVE_DIR=str(folder / "archive"))
        seeding = time.perf_counter()
        numbers = await seed(infra.mongodb_uri, intake_env["CHORALE_MONGODB_DATABASE"], count)
        print(f"  {count:,} flows written in {time.perf_counter() - seeding:.0f} s")
        try:
            started = time.perf_counter()
            intake = ServiceProcess("chorale_intake", intake_env, free_port(),
                                    folder / "intake.log").start()
            processes.append(intake)
            others = {name: ServiceProcess(module, service_env(
                infra, namespace, name, **common), free_port(), folder / f"{name}.log").start()
                for name, module in (("habilitations", "chorale_habilitations"),
                                     ("notifications", "chorale_notifications"))}
            processes.extend(others.values())
            await wait_ready(intake.base_url, 600)
            loaded = time.perf_counter() - started
            portal_env = service_env(
                infra, namespace, "portal", **common, CHORALE_SERVICE_TIMEOUT_SECONDS="600",
                CHORALE_INTAKE_URL=intake.base_url, CHORALE_IDENTITY_URL="http://127.0.0.1:9",
                CHORALE_HABILITATIONS_URL=others["habilitations"].base_url,
                CHORALE_NOTIFICATIONS_URL=others["notifications"].base_url)
            portal = ServiceProcess("chorale_portal", portal_env, free_port(),
                                    folder / "portal.log").start()
            processes.append(portal)
            await asyncio.gather(*[wait_ready(p.base_url, 180) for p in processes])
            secrets = await open_sessions(infra.mongodb_uri,
                                          portal_env["CHORALE_MONGODB_DATABASE"], tokens)
            pages = flow_screens(numbers)
            ids = [str(i) for i in range(count)]
            await walk(portal.base_url, secrets[0], ids, 1, {}, pages=pages)  # warm-up
            seen: dict[str, list[tuple[float, float]]] = {}
            began = time.perf_counter()
            await asyncio.gather(*[walk(portal.base_url, s, ids, rounds, seen, pages=pages)
                                   for s in secrets])
            elapsed = time.perf_counter() - began
            direct = {"memory": await intake_list(intake.base_url, tokens, 20)}
            intake.terminate()
            intake = ServiceProcess("chorale_intake", {**intake_env,
                                                       "CHORALE_FLOW_LIST": "database"},
                                    intake.port, folder / "intake-database.log").start()
            processes.append(intake)
            await wait_ready(intake.base_url, 600)
            # seconds per page at 100,000 flows on FerretDB: one is enough to see it
            direct["database"] = await intake_list(intake.base_url, tokens,
                                                   3 if ctx.quick else 1)
        except Exception:
            for p in processes:
                print(f"  {p.module}'s log:\n" + p.logs()[-1500:])
            raise
        finally:
            for p in processes:
                p.terminate()
            jwks_server.shutdown()
    served = sum(len(v) for v in seen.values())
    print(f"  {count:,} flows over {PARTNERS} partners; intake ready (list loaded) in "
          f"{loaded:.1f} s; {USERS} users, {served:,} pages in {elapsed:.1f} s")
    figures = [Figure("intake start-up with the list loaded", loaded, "s",
                      higher_is_better=False)]
    for mode, samples in direct.items():
        figures.append(Figure(f"intake list, 1 partner, 1 client ({mode}): median",
                              statistics.median(samples), "ms", higher_is_better=False))
    for name, samples in seen.items():
        figures.append(Figure(f"{name}: p95 server-side",
                              percentile([api + own for api, own in samples], 95), "ms",
                              target=TARGET_MS, higher_is_better=False))
    every = [sample for samples in seen.values() for sample in samples]
    figures.append(Figure(f"waiting for the services per page, {USERS} users (median)",
                          statistics.median(api for api, _ in every), "ms",
                          higher_is_better=False))
    figures.append(Figure(f"portal's own time per page, {USERS} users (median)",
                          statistics.median(own for _, own in every), "ms",
                          higher_is_better=False))
    return figures


async def intake_list(base: str, tokens: TokenFactory, requests: int) -> list[float]:
    """Milliseconds per first page of a partner's flows, asked of the intake itself."""
    headers = tokens.operator("bench-intake-list")
    spent = []
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for i in range(requests):
            began = time.perf_counter()
            answer = await client.get("/v1/flows", headers=headers, params={
                "structurePartenaire": siret(i % PARTNERS), "taillePage": 20})
            answer.raise_for_status()
            spent.append((time.perf_counter() - began) * 1000)
    return spent
