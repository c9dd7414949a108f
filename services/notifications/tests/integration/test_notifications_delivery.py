"""Delivery guarantees on the real broker, database and SMTP server: a restart in the middle
of a burst sends each message exactly once; an SMTP outage delays but loses nothing; a
permanent refusal is parked as FAILED for operators, who can re-send it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from chorale_contracts import Topic, topic_name
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_runtime.testing.kafka_probe import collect, eventually
from chorale_runtime.testing.plugin import service_env
from chorale_runtime.testing.servers import (
    ServiceProcess,
    free_port,
    operations_url,
    wait_ready,
)

from .conftest import email_of, made_available

pytestmark = pytest.mark.integration

COMMUNE = "21310555400017"


def invoice(n: int) -> InvoiceMadeAvailable:
    return made_available(f"F-{n:04d}", COMMUNE)


def metric(scraped: str, name: str, label: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in scraped.splitlines()
              if line.startswith(name + "{") and label in line]
    assert values, f"{name} {label} not exposed"
    return sum(values)


async def readers(publish, *uids: str) -> None:
    for uid in uids:
        await publish.user(uid)
        await publish.grant(uid, COMMUNE, "FACTURES_RECUES", "CONSULTATION")


async def test_a_restart_during_a_burst_sends_each_message_exactly_once(
    publish, smtp, notifications, mongo_client, namespace
):
    users = ("lecteur-a", "lecteur-b", "lecteur-c")
    smtp.catcher.delay = 0.03  # a slow server, so the restart lands mid-burst
    # Habilitation mails are switched off by a long digest window: only invoices count here.
    async with notifications(habilitations_digest_seconds=3600):
        await readers(publish, *users)
        for n in range(50):
            await publish(invoice(n), f"inv-{n}")
        await eventually(lambda: len(smtp.catcher.messages) >= 25, timeout=90)
    received_before = len(smtp.catcher.messages)
    assert received_before < 150, "the burst ended before the restart: make the server slower"
    async with notifications(habilitations_digest_seconds=3600):
        await eventually(lambda: len(smtp.catcher.messages) >= 150, timeout=120)
        await asyncio.sleep(2)  # anything sent twice would arrive now
    per_recipient = Counter((m.to[0], m.subject) for m in smtp.catcher.messages)
    assert len(per_recipient) == 150
    assert set(per_recipient.values()) == {1}
    assert {m.to[0] for m in smtp.catcher.messages} == {email_of(u) for u in users}
    db = mongo_client[namespace.database("notifications")]
    assert await db.deliveries.count_documents({"statut": "SENT"}) == 150
    assert await db.messages.count_documents({}) == 150


async def test_an_smtp_outage_then_recovery_delivers_everything_with_retries_logged(
    publish, smtp, notifications, tokens
):
    smtp.stop()  # the server is down before anything is sent
    async with notifications(habilitations_digest_seconds=3600,
                             delivery_max_attempts=100) as base:
        await readers(publish, "lecteur-x")
        for n in range(5):
            await publish(invoice(n), f"inv-{n}")
        operator = tokens.operator()
        async with httpx.AsyncClient(base_url=base, headers=operator) as client:

            async def retried() -> list[dict]:
                body = (await client.get("/v1/operations/deliveries",
                                         params={"statut": "PENDING"})).json()
                envois = [e for e in body["envois"] if e["tentatives"] >= 2]
                return envois if len(envois) == 5 else []

            pending = await eventually(retried, timeout=60)
            assert all(e["journal"][0]["resultat"] == "TRANSIENT" for e in pending)
            assert smtp.catcher.messages == []
            smtp.start()
            await eventually(lambda: len(smtp.catcher.messages) == 5, timeout=60)

            async def all_sent() -> dict:
                body = (await client.get("/v1/operations/deliveries",
                                         params={"statut": "SENT"})).json()
                return body if body["total"] == 5 else {}

            body = await eventually(all_sent, timeout=30)  # recorded just after the SMTP reply
            for envoi in body["envois"]:
                outcomes = [j["resultat"] for j in envoi["journal"]]
                assert outcomes[-1] == "SENT" and outcomes.count("TRANSIENT") >= 2
                assert envoi["journal"][-1]["reponseSmtp"].startswith("2.0.0 Message accept")
                assert envoi["journal"][-1]["adresse"] == email_of("lecteur-x")


async def test_a_refused_mail_is_parked_as_failed_then_resent_by_an_operator(
    publish, smtp, notifications, tokens, infra, namespace
):
    smtp.catcher.refuse.add(email_of("lecteur-refuse"))
    async with notifications(habilitations_digest_seconds=3600) as base:
        await readers(publish, "lecteur-refuse", "lecteur-ok")
        await publish(invoice(1), "inv-1")
        await eventually(lambda: smtp.catcher.to(email_of("lecteur-ok")), timeout=60)
        async with httpx.AsyncClient(base_url=base, headers=tokens.operator()) as client:

            async def failed() -> list[dict]:
                r = await client.get("/v1/operations/deliveries", params={"statut": "FAILED"})
                return r.json()["envois"]

            [parked] = await eventually(failed, timeout=30)
            assert parked["userId"] == "lecteur-refuse"
            assert parked["journal"][-1]["resultat"] == "PERMANENT"
            assert "550" in parked["derniereReponse"]
            user = tokens.headers("lecteur-refuse")
            assert (await client.get("/v1/operations/deliveries",
                                     headers=user)).status_code == 403
            events = await collect(
                infra.kafka_bootstrap, topic_name(Topic.NOTIFICATIONS, namespace.topic_prefix),
                until=lambda evs: any(e.event_type == "notification.failed" for e in evs),
            )
            failure = next(e for e in events if e.event_type == "notification.failed")
            assert failure.payload["notificationId"] == parked["id"]
            assert failure.key == "lecteur-refuse"

            smtp.catcher.refuse.clear()  # the mailbox was fixed
            again = await client.post(f"/v1/operations/deliveries/{parked['id']}/retry")
            assert again.status_code == 200 and again.json()["statut"] == "PENDING"
            await eventually(lambda: smtp.catcher.to(email_of("lecteur-refuse")), timeout=30)
            twice = await client.post(f"/v1/operations/deliveries/{parked['id']}/retry")
            assert twice.status_code == 409
            assert twice.json()["code"] == "DELIVERY_NOT_RETRYABLE"

            async def journal() -> list[str]:
                detail = (await client.get(f"/v1/operations/deliveries/{parked['id']}")).json()
                return [j["resultat"] for j in detail["journal"]]

            await eventually(lambda: _equal(journal(), ["PERMANENT", "RELANCE", "SENT"]))
            scraped = (await client.get(f"{operations_url(base)}/metrics")).text
            for name in ("mails_sent_total", "mails_failed_total"):
                assert metric(scraped, f"chorale_notifications_{name}",
                              'category="FACTURE_MISE_A_DISPOSITION"') >= 1
            assert metric(scraped, "chorale_notifications_deliveries_pending", "") >= 0
        await collect(
            infra.kafka_bootstrap, topic_name(Topic.NOTIFICATIONS, namespace.topic_prefix),
            until=lambda evs: sum(e.event_type == "notification.sent" for e in evs) >= 2,
        )
    assert str(uuid.UUID(parked["id"])) == parked["id"]


async def test_a_hard_kill_mid_burst_loses_nothing_and_resends_only_mails_in_flight(
    publish, smtp, infra, namespace, mongo_client, tmp_path
):
    """SIGKILL cannot tell whether the server took a mail in flight: those deliveries (and
    only those) are sent again after the restart, with the same Message-ID."""
    users = ("kill-a", "kill-b", "kill-c")
    smtp.catcher.delay = 0.03
    env = service_env(infra, namespace, "notifications", CHORALE_SMTP_PORT=str(smtp.port),
                      CHORALE_DELIVERY_BACKOFF="0.2", CHORALE_DISPATCH_INTERVAL="0.2",
                      CHORALE_HABILITATIONS_DIGEST_SECONDS="3600",
                      CHORALE_NOTICE_FREQUENCY="IMMEDIAT")
    first = ServiceProcess("chorale_notifications", env, free_port(), tmp_path / "1.log").start()
    try:
        await wait_ready(first.base_url)
        await readers(publish, *users)
        for n in range(50):
            await publish(invoice(n), f"inv-{n}")
        await eventually(lambda: len(smtp.catcher.messages) >= 25, timeout=90)
    finally:
        first.kill()
    assert len(smtp.catcher.messages) < 150
    second = ServiceProcess("chorale_notifications", env, free_port(), tmp_path / "2.log").start()
    try:
        await eventually(lambda: len({(m.to[0], m.subject) for m in smtp.catcher.messages})
                         >= 150, timeout=120)
        await asyncio.sleep(2)
    finally:
        second.terminate()
    db = mongo_client[namespace.database("notifications")]
    assert await db.deliveries.count_documents({"statut": "SENT"}) == 150
    resumed = await db.deliveries.count_documents({"log.resultat": "REPRISE"})
    by_mail = Counter((m.to[0], m.subject) for m in smtp.catcher.messages)
    extra = sum(n - 1 for n in by_mail.values())
    assert extra <= resumed <= 4  # at most smtp_concurrency mails were in flight
    for (to, subject), n in by_mail.items():
        if n > 1:
            ids = {m.message_id for m in smtp.catcher.messages
                   if (m.to[0], m.subject) == (to, subject)}
            assert len(ids) == 1  # recognisable as the same message


async def _equal(value, expected) -> bool:
    return await value == expected
