"""Invoices service (issue 19): with 100,000 invoices in one recipient's store, the first page of
« Factures reçues » with two filters (status and minimum amount, for an agent whose grants cover
three services) in under 100 ms at the 95th percentile over HTTP; and at least 300 status
changes per second end to end: `POST …/prise-en-charge` (50 concurrent callers) → document
write with its event → Kafka → the CDAR consumer → a CDAR file in the partner's `out/`.

The store is seeded straight into the database (documents as the service writes them), then
the service runs in this process and loads its list index; the load time is printed too.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from harness import Figure, percentile
from pymongo import AsyncMongoClient

from chorale_contracts import new_envelope, topic_name
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_invoices.adapters.invoice_store import INVOICES, _document
from chorale_invoices.bootstrap import build_app
from chorale_invoices.domain.invoice import Etape, Invoice
from chorale_invoices.domain.statuses import Actor, Status
from chorale_invoices.settings import InvoicesSettings
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import Namespace, settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_runtime.testing.tokens import TokenFactory

RECIPIENT, SUPPLIERS, ACCOUNT = "21000000000013", 200, "ct-bench"
SERVICES = [f"S{i:02d}" for i in range(20)]
STATUSES = [Status.MISE_A_DISPOSITION, Status.PRISE_EN_CHARGE, Status.SERVICE_FAIT,
            Status.MANDATEE, Status.SUSPENDUE]


def _invoice(i: int, rng: random.Random, status: Status) -> Invoice:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
    steps = [Etape(statut=Status.DEPOSEE, date=at, typeAuteur=Actor.PLATFORM),
             Etape(statut=Status.MISE_A_DISPOSITION, date=at, typeAuteur=Actor.PLATFORM)]
    if status is not Status.MISE_A_DISPOSITION:
        steps.append(Etape(statut=status, date=at, typeAuteur=Actor.RECIPIENT, auteur="agent"))
    amount = f"{rng.randrange(10, 100_000)}.{rng.randrange(100):02d}"
    return Invoice(
        invoiceId=f"FAC{at:%Y%m%d}-B{i:09d}", numeroFluxDepot=f"FLX{at:%Y%m%d}-B{i:09d}",
        numeroFacture=f"F-{i:07d}", typeFacture="380", dateFacture=at.date().isoformat(),
        dateDepot=at.date().isoformat(), destinataire=RECIPIENT,
        codeService=rng.choice(SERVICES), fournisseur=f"7{rng.randrange(SUPPLIERS):013d}",
        raisonSocialeFournisseur="Fournisseur", montantTTC=amount, devise="EUR",
        technicalAccountId=ACCOUNT, canal="EDI", statut=steps[-1].statut,
        dateStatut=at, version=len(steps), historique=tuple(steps))


async def _seed(infra, database: str, count: int) -> list[str]:
    rng = random.Random(19)
    client = AsyncMongoClient(infra.mongodb_uri)
    fresh: list[str] = []
    try:
        collection = client[database][INVOICES]
        batch = []
        for i in range(count):
            status = rng.choice(STATUSES)
            invoice = _invoice(i, rng, status)
            if status is Status.MISE_A_DISPOSITION:
                fresh.append(invoice.invoiceId)
            batch.append(_document(invoice))
            if len(batch) == 2000:
                await collection.insert_many(batch, ordered=False)
                batch = []
        if batch:
            await collection.insert_many(batch, ordered=False)
    finally:
        await client.close()
    return fresh


async def _grant(infra, prefix: str, user: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for code in SERVICES[:3]:
            payload = HabilitationGranted(
                grantId=str(uuid.uuid4()), userId=user, structure=RECIPIENT, codeService=code,
                application="FACTURES_RECUES", mode="MODIFICATION")
            envelope = new_envelope(payload, key=user, producer="bench")
            await producer.send_and_wait(topic_name(payload.topic, prefix), envelope.to_bytes(),
                                         key=user.encode())
    finally:
        await producer.stop()


async def run(ctx) -> list[Figure]:
    infra = ctx.infra()
    count = 10_000 if ctx.quick else 100_000
    changes = 300 if ctx.quick else 1_000
    namespace = Namespace("b" + uuid.uuid4().hex[:10])
    tokens = TokenFactory()
    edi = Path(tempfile.mkdtemp(prefix="bench-invoices-"))
    settings = settings_for(InvoicesSettings, infra, namespace, edi_root=edi,
                            log_level="WARNING")
    started = time.perf_counter()
    fresh = await _seed(infra, settings.database_name, count)
    seeded = time.perf_counter() - started
    print(f"  seeded {count:,} invoices in {seeded:.0f} s", flush=True)
    app = build_app(settings, verifier=tokens.verifier())
    figures: list[Figure] = []
    async with serve_in_process(app) as base, httpx.AsyncClient(timeout=60) as http:
        loading = time.perf_counter()
        index = app.state.invoices["index"]
        await eventually(lambda: index.loaded, timeout=1800, interval=0.2)
        figures.append(Figure(f"list index load ({count:,} invoices)",
                              time.perf_counter() - loading, "s", higher_is_better=False))
        await _grant(infra, namespace.topic_prefix, "agent")
        agent = tokens.headers("agent")
        params = {"structure": RECIPIENT, "statut": "PRISE_EN_CHARGE", "montantMin": "50000"}
        url = f"{base}/v1/factures-recues"

        async def granted() -> bool:  # the grants reach the read model
            return (await http.get(url, params=params, headers=agent)).status_code == 200

        await eventually(granted, timeout=120)
        latencies = []
        for _ in range(50 if ctx.quick else 200):
            t = time.perf_counter()
            response = await http.get(url, params=params, headers=agent)
            latencies.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200 and response.json()["factures"], response.text
        total = response.json()["total"]
        print(f"  first page: {total:,} matching invoices of {count:,}, 3 services of 20")
        figures.append(Figure("first page, 2 filters, p50", percentile(latencies, 50), "ms"))
        figures.append(Figure("first page, 2 filters, p95", percentile(latencies, 95), "ms",
                              target=100, higher_is_better=False))

        # Status changes end to end: command → event → CDAR file in out/.
        operator = tokens.operator()
        targets = fresh[:changes]
        queue: asyncio.Queue[str] = asyncio.Queue()
        for invoice_id in targets:
            queue.put_nowait(invoice_id)

        async def caller() -> None:
            while not queue.empty():
                invoice_id = queue.get_nowait()
                r = await http.post(f"{base}/v1/factures-recues/{invoice_id}/prise-en-charge",
                                    headers=operator)
                assert r.status_code == 200, r.text

        out = edi / ACCOUNT / "out"
        t = time.perf_counter()
        await asyncio.gather(*[caller() for _ in range(50)])
        commands = time.perf_counter() - t
        await eventually(lambda: out.exists() and sum(1 for _ in out.glob("*.cdar.xml"))
                         >= len(targets), timeout=600, interval=0.05)
        elapsed = time.perf_counter() - t
        figures.append(Figure("status changes, commands answered", len(targets) / commands,
                              "/s"))
        figures.append(Figure("status changes end to end (→ CDAR file)",
                              len(targets) / elapsed, "/s", target=300))
    return figures
