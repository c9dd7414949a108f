"""What follows the intake (issue 16): notifications' consumers of chorale.flows.v1 and
chorale.invoices.v1, mail sending, and an account mail's latency behind a flood of notices.

1. Consumers: a backlog of flows (4 status events each, 70 % rejected, an invoice event per
   integrated flow) is published first, then the notifications service starts; each consumer
   group of those topics is timed until its lag is zero. Printed in events/s and as the ratio
   to the intake's event rate (its bulk figure × 4 statuses when `intake` ran in the same
   `make bench`, else the issue's 600 flows/s × 4).
2. Mails: 2,000 pending deliveries sent by the dispatcher to a local SMTP server (aiosmtpd, its
   own process) within CHORALE_SMTP_CONCURRENCY.
3. Latency of a verification mail (event published → accepted by the SMTP server) while
   1,000 rejection notices are pending (users who chose « immédiat »), one after the other.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from harness import Figure, percentile
from pymongo import AsyncMongoClient

from chorale_contracts import Topic, new_envelope, topic_name
from chorale_contracts.events.flows import FlowError, FlowStatusChanged
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_contracts.events.identity import (
    RattachementApproved,
    UserRegistered,
    UserVerificationRequested,
)
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_notifications import metrics as notification_metrics
from chorale_notifications.adapters.deliveries import Deliveries
from chorale_notifications.adapters.mail_links import MailLinks
from chorale_notifications.adapters.read_models import People
from chorale_notifications.adapters.smtp import Mailer
from chorale_notifications.bootstrap import build_app
from chorale_notifications.domain.categories import BULK
from chorale_notifications.domain.ids import message_id
from chorale_notifications.service_layer.dispatcher import Dispatcher
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.kafka import OutgoingMessage, Producer, ensure_topics, physical_topics
from chorale_runtime.serialized import SerializedDatabase
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import Namespace, settings_for
from chorale_runtime.testing.servers import serve_in_process

PUBLIC = "21750001600019"
PARTNERS = [f"4430618410{n:04d}" for n in range(20)]
STATUSES = ["IN_RECU", "IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT"]
INTAKE_REFERENCE = 600 * 4  # the bulk rate: 600 flows/s, 4 status events each


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """aiosmtpd in its own process: accepts and discards every mail."""

    def __init__(self) -> None:
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SmtpSink:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise RuntimeError("the SMTP sink did not start")

    def __exit__(self, *_exc: Any) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)


async def _publish(producer: Producer, prefix: str, items: list[tuple[Any, str]]) -> None:
    messages = []
    for payload, key in items:
        env = new_envelope(payload, key=key, producer="bench")
        messages.append(OutgoingMessage(topic_name(payload.topic, prefix), key.encode(),
                                        env.to_bytes()))
    for start in range(0, len(messages), 5000):
        await producer.send_batch(messages[start:start + 5000])


def _people(partner_users: int = 2) -> list[tuple[Any, str]]:
    items: list[tuple[Any, str]] = []
    for p, partner in enumerate(PARTNERS):
        for u in range(partner_users):
            uid = f"sup-{p}-{u}"
            items.append((UserRegistered(userId=uid, loginEmail=f"{uid}@b.test",
                                         contactEmail=f"{uid}@b.test", prenom="P", nom="N"),
                          uid))
            items.append((RattachementApproved(rattachementId=f"r-{uid}", userId=uid,
                                               structure=partner, decidedBy="gp", direct=True),
                          f"r-{uid}"))
    for u in range(3):
        uid = f"reader-{u}"
        items.append((UserRegistered(userId=uid, loginEmail=f"{uid}@b.test",
                                     contactEmail=f"{uid}@b.test", prenom="R", nom="N"), uid))
        items.append((HabilitationGranted(grantId=f"g-{uid}", userId=uid, structure=PUBLIC,
                                          codeService=None, application="FACTURES_RECUES",
                                          mode="CONSULTATION"), uid))
    return items


def _flows(count: int, run: str, rejected_share: float = 0.7) -> list[tuple[Any, str]]:
    items: list[tuple[Any, str]] = []
    depot = datetime.now(UTC)
    for n in range(count):
        numero = f"FLX-{run}-{n:06d}"
        partner = PARTNERS[n % len(PARTNERS)]
        common = dict(numeroFluxDepot=numero, canal="EDI", technicalAccountId="ta",
                      structurePartenaire=partner, nomFichier=f"{numero}.xml", dateDepot=depot)
        previous = None
        for statut in STATUSES:
            items.append((FlowStatusChanged(statut=statut, statutPrecedent=previous, **common),
                          numero))
            previous = statut
        if n % 10 < rejected_share * 10:
            items.append((FlowStatusChanged(
                statut="IN_REJETE", statutPrecedent=previous, erreurs=[FlowError(
                    code="SERVICE_CODE_REQUIRED", message="Code service requis",
                    level="FACTURE")], **common), numero))
        else:
            items.append((FlowStatusChanged(statut="IN_INTEGRE", statutPrecedent=previous,
                                            **common), numero))
            items.append((InvoiceMadeAvailable(
                invoiceId=f"inv-{numero}", numeroFluxDepot=numero, statut="MISE_A_DISPOSITION",
                destinataire=PUBLIC, codeService=None, fournisseur=partner,
                numeroFacture=f"F-{n}", dateFacture=depot.date(), dateDepot=depot.date()),
                numero))
    return items


async def _caught_up(consumer: Any) -> bool:
    lag = await consumer.lag()
    return lag is not None and not any(lag.values())


async def bench_consumers(infra: Any, count: int) -> tuple[dict[str, float], int]:
    namespace = Namespace("bn" + uuid.uuid4().hex[:8])
    prefix = namespace.topic_prefix
    topics = [Topic.FLOWS, Topic.INVOICES, Topic.IDENTITY, Topic.HABILITATIONS,
              Topic.DIRECTORY, Topic.STRUCTURES, Topic.NOTIFICATIONS]
    await ensure_topics(infra.kafka_bootstrap, physical_topics(topics, prefix, with_dlq=True))
    producer = Producer(infra.kafka_bootstrap, "bench")
    await producer.start()
    flows = _flows(count, namespace.token)
    try:
        await _publish(producer, prefix, _people())
        await _publish(producer, prefix, flows)
    finally:
        await producer.stop()
    with SmtpSink() as smtp:
        settings = settings_for(NotificationsSettings, infra, namespace, smtp_port=smtp.port,
                                log_level="WARNING", notice_digest_seconds=3600)
        app = build_app(settings)
        runtime = app.state.runtime
        rates: dict[str, float] = {}
        started = time.monotonic()
        async with serve_in_process(app):
            groups = [c for c in runtime.consumers
                      if {Topic.FLOWS, Topic.INVOICES} & set(c.subscription.topics)]
            waiting = {c.subscription.name: c for c in groups}
            while waiting:
                for name, consumer in list(waiting.items()):
                    if await _caught_up(consumer):
                        mine = [p for p, _k in flows if p.topic in consumer.subscription.topics]
                        rates[name] = len(mine) / (time.monotonic() - started)
                        del waiting[name]
                if time.monotonic() - started > 900:
                    raise TimeoutError(f"not caught up after 900 s: {list(waiting)}")
                await asyncio.sleep(0.05)
    return rates, len(flows)


async def bench_mails(infra: Any, count: int, concurrency: int) -> float:
    namespace = Namespace("bm" + uuid.uuid4().hex[:8])
    client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    with SmtpSink() as smtp:
        settings = settings_for(NotificationsSettings, infra, namespace, smtp_port=smtp.port,
                                smtp_concurrency=concurrency, log_level="WARNING")
        db = SerializedDatabase(client[settings.database_name])
        deliveries = Deliveries(db)
        await db.deliveries.insert_many(_pending_notices(count))
        dispatcher = Dispatcher(deliveries, People(db), Mailer(settings), settings,
                                lambda *_a: None, MailLinks(settings))
        sent = notification_metrics.MAILS_SENT.labels(settings.service_name, "FLUX_REJETE")
        before = sent._value.get()
        started = time.monotonic()
        task = asyncio.create_task(dispatcher.run())
        try:
            while sent._value.get() - before < count:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
            elapsed = time.monotonic() - started
        finally:
            await dispatcher.stop()
            task.cancel()
    await client.drop_database(settings.database_name)
    await client.close()
    return count / elapsed


def _pending_notices(count: int) -> list[dict[str, Any]]:
    """Rejection notices waiting to be mailed, as the notifier writes them (users who chose
    « immédiat »)."""
    now = datetime.now(UTC)
    return [{
        "_id": f"d-{n}", "userId": f"u-{n % 50}", "categorie": "FLUX_REJETE",
        "to": f"u-{n % 50}@b.test", "subject": f"Flux rejeté : FLX-{n}",
        "text": "Bonjour,\n\nLe flux a été rejeté.\n" * 5, "html": "<p>rejeté</p>" * 5,
        "statut": "PENDING", "priorite": BULK, "tentatives": 0, "nextAttemptAt": now,
        "updatedAt": now, "sourceEventId": f"e-{n}", "correlationId": f"c-{n}",
        "log": [], "version": 0, "outbox": [],
    } for n in range(count)]


async def bench_urgent_latency(infra: Any, notices: int, samples: int
                               ) -> tuple[list[float], int]:
    """Verification mails published one after the other while `notices` rejection notices
    wait to be sent; latency = event published → mail accepted by the SMTP server."""
    namespace = Namespace("bu" + uuid.uuid4().hex[:8])
    prefix = namespace.topic_prefix
    client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    with SmtpSink() as smtp:
        async with serve_in_process(_identity_mail_links()) as identity_url:
            settings = settings_for(NotificationsSettings, infra, namespace, smtp_port=smtp.port,
                                    identity_url=identity_url,
                                    mail_links_client_secret=MAIL_LINKS_SECRET, log_level="WARNING")
            db = client[settings.database_name]
            await db.deliveries.insert_many(_pending_notices(notices))
            producer = Producer(infra.kafka_bootstrap, "bench")
            await producer.start()
            latencies: list[float] = []
            pending_at_first = 0
            try:
                async with serve_in_process(build_app(settings)):
                    for i in range(samples):
                        uid = f"new-{i}"
                        payload = UserVerificationRequested(
                            userId=uid, purpose="EMAIL_VERIFICATION", contactEmail=f"{uid}@b.test",
                            prenom="Nouvelle", linkId=f"link-{i}",
                            expiresAt=datetime.now(UTC) + timedelta(hours=1))
                        env = new_envelope(payload, key=uid, producer="bench")
                        published = datetime.now(UTC)
                        await producer.send(OutgoingMessage(topic_name(Topic.IDENTITY, prefix),
                                                            uid.encode(), env.to_bytes()))
                        delivery = message_id(str(env.event_id), uid)
                        doc = await eventually(lambda d=delivery: _sent(db, d), timeout=300,
                                               interval=0.01)
                        latencies.append((doc["sentAt"] - published).total_seconds())
                        if i == 0:
                            pending_at_first = await db.deliveries.count_documents(
                                {"categorie": "FLUX_REJETE", "statut": "PENDING"})
                        await asyncio.sleep(0.2)
            finally:
                await producer.stop()
    await client.drop_database(settings.database_name)
    await client.close()
    return latencies, pending_at_first


MAIL_LINKS_SECRET = "bench-mail-links-secret"


def _identity_mail_links() -> FastAPI:
    """Identity's mail-link route as notifications calls it when it sends an account mail
    (the link itself is identity's business, not what this benchmark measures)."""
    app = FastAPI()

    @app.post("/internal/v1/mail-links/{link_id}/token")
    async def mint(link_id: str) -> dict[str, str]:
        return {"link": f"https://portail.test/compte/verification?token={link_id}.x",
                "expiresAt": "2099-01-01T00:00:00+00:00"}

    return app


async def _sent(db: Any, delivery_id: str) -> dict[str, Any] | None:
    doc = await db.deliveries.find_one({"_id": delivery_id}, {"statut": 1, "sentAt": 1})
    return doc if doc and doc.get("statut") == "SENT" else None


def _intake_event_rate(ctx: Any) -> tuple[float, str]:
    figure = getattr(ctx, "figures", {}).get("end to end, drop -> terminal event (bulk)")
    if figure is not None:
        return figure.value * 4, "the intake's bulk rate of this run × 4"
    return float(INTAKE_REFERENCE), "600 flows/s × 4 (intake not run here)"


async def run(ctx) -> list[Figure]:  # type: ignore[no-untyped-def]
    infra = ctx.infra()
    flows = 2_500 if ctx.quick else 10_000
    print(f"  shared machine: {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start", flush=True)
    rates, events = await bench_consumers(infra, flows)
    intake_rate, basis = _intake_event_rate(ctx)
    figures = []
    for name, rate in sorted(rates.items()):
        figures.append(Figure(f"consumer '{name}' catching up {events} events", rate,
                              "events/s", 3000))
        figures.append(Figure(f"  ratio to the intake's events ({basis})", rate / intake_rate,
                              "", 1.2))
    mail_rate = await bench_mails(infra, 500 if ctx.quick else 2_000, 4)
    figures.append(Figure("mails accepted by aiosmtpd (concurrency 4)", mail_rate, "mails/s",
                          200))
    latencies, pending = await bench_urgent_latency(infra, 1_000, 10 if ctx.quick else 20)
    figures.append(Figure("rejection notices pending at the first verification mail",
                          pending, "mails"))
    figures.append(Figure("verification mail latency p50", percentile(latencies, 50), "s",
                          higher_is_better=False))
    figures.append(Figure("verification mail latency p99", percentile(latencies, 99), "s", 5,
                          higher_is_better=False))
    return figures
