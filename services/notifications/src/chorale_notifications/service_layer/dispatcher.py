"""Sends pending deliveries. Each is claimed (PENDING → SENDING, compare-and-set under the
runtime's per-document serialization) before its SMTP attempt, and the outcome is recorded with
its event in one update, so within a process run no message goes out twice. At start-up,
SENDING deliveries of a dead run are released (their mail may or may not have left; a resend
carries the same Message-ID). At shutdown no new claim is made and sends in flight finish."""

from __future__ import annotations

import asyncio
import contextlib
import html
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chorale_contracts import new_envelope
from chorale_contracts.events.notifications import NotificationFailed, NotificationSent
from chorale_notifications import metrics
from chorale_notifications.adapters.deliveries import DELIVERIES, FAILED, PENDING, Deliveries
from chorale_notifications.adapters.mail_links import LinkServiceError, LinkUnavailable, MailLinks
from chorale_notifications.adapters.read_models import People
from chorale_notifications.adapters.smtp import Mail, Mailer, SendResult
from chorale_notifications.domain.compose import LINK_PLACEHOLDER
from chorale_notifications.domain.ids import mail_message_id
from chorale_notifications.domain.retry import RetryPolicy
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class Dispatcher:
    def __init__(self, deliveries: Deliveries, people: People, mailer: Mailer,
                 settings: NotificationsSettings, publish_soon: Callable[[str, Any], None],
                 links: MailLinks):
        self._deliveries = deliveries
        self._links = links
        self._people = people
        self._mailer = mailer
        self._s = settings
        self._publish_soon = publish_soon
        self._policy = RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff,
                                   settings.delivery_backoff_max)
        self.run_id = uuid.uuid4().hex
        self._wakeup = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(settings.smtp_concurrency)
        self._stopping = False
        self._sampled_at = 0.0

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        released = await self._deliveries.release_abandoned(self.run_id)
        if released:
            log.warning("deliveries_released_after_crash", count=len(released))
        while not self._stopping:
            self._wakeup.clear()
            await self.dispatch_due()
            await self._sample()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # coincides with the wake-up, and the task would never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._s.dispatch_interval):
                    await self._wakeup.wait()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=self._s.smtp_timeout * 2)

    async def dispatch_due(self) -> None:
        due = await self._deliveries.due(datetime.now(UTC), self._s.smtp_concurrency * 8)
        for doc in due:
            delivery_id = doc["_id"]
            if self._stopping:
                return
            if delivery_id in self._inflight:
                continue
            task = asyncio.create_task(self._deliver(delivery_id))
            self._inflight[delivery_id] = task
            task.add_done_callback(lambda _t, i=delivery_id: self._inflight.pop(i, None))

    async def _sample(self) -> None:
        if time.monotonic() - self._sampled_at < 1.0:  # counting scans: once a second at most
            return
        self._sampled_at = time.monotonic()
        service = self._s.service_name
        metrics.DELIVERIES_PENDING.labels(service).set(await self._deliveries.count(PENDING))
        metrics.DELIVERIES_FAILED.labels(service).set(await self._deliveries.count(FAILED))

    async def _deliver(self, delivery_id: str) -> None:
        async with self._slots:
            if self._stopping:
                return
            doc = await self._deliveries.claim(delivery_id, self.run_id)
            if doc is None:
                return
            try:
                result, address = await self._attempt(doc)
            except Exception as exc:  # the read model or rendering broke: count it, retry
                result, address = SendResult("TRANSIENT", f"{type(exc).__name__}: {exc}"), None
            await self._settle(doc, result, address)

    async def _attempt(self, doc: dict[str, Any]) -> tuple[SendResult, str | None]:
        text, html_body = doc["text"], doc["html"]
        if "linkId" in doc:  # a single-use link: minted now, in this mail only
            try:
                link = await self._links.mint(doc["linkId"])
            except LinkUnavailable as exc:
                return SendResult("PERMANENT", f"aucun envoi : {exc}"), None
            except LinkServiceError as exc:
                return SendResult("TRANSIENT", f"lien non obtenu : {exc}"), None
            text = text.replace(LINK_PLACEHOLDER, link)
            html_body = html_body.replace(LINK_PLACEHOLDER, html.escape(link))
        address = doc.get("to")
        if not address:
            person = await self._people.get(doc["userId"]) or {}
            if person.get("active") is False:
                return SendResult("PERMANENT", "compte utilisateur désactivé"), None
            address = person.get("contactEmail")
            if not address:
                return SendResult("TRANSIENT", "adresse de contact encore inconnue"), None
        mail = Mail(to=address, subject=doc["subject"], text=text, html=html_body,
                    message_id=mail_message_id(doc["_id"], self._s.message_id_domain),
                    category=doc["categorie"])
        return await self._mailer.send(mail), address

    async def _settle(self, doc: dict[str, Any], result: SendResult, address: str | None
                      ) -> None:
        service = self._s.service_name
        attempt = doc.get("tentatives", 0) + 1
        total = doc.get("attemptsTotal", 0) + 1
        now = datetime.now(UTC)
        step = self._policy.after(result.outcome, attempt)
        metrics.SEND_ATTEMPTS.labels(service, result.outcome).inc()
        entry = {"at": now, "tentative": total, "resultat": result.outcome,
                 "reponse": result.answer, "adresse": address}
        update: dict[str, Any] = {"tentatives": attempt, "attemptsTotal": total,
                                  "derniereReponse": result.answer}
        events = []
        common = {"notificationId": doc["_id"], "userId": doc["userId"],
                  "category": doc["categorie"], "subject": doc["subject"],
                  "sourceEventId": doc["sourceEventId"]}
        if step == "SENT":
            # The stored body of a single-use-link mail holds the placeholder, never the link:
            # it stays as it is, so an operator's re-send mints a new link into it.
            update.update(statut="SENT", sentAt=now)
            events.append(NotificationSent(**common))
        elif step == "FAILED":
            update.update(statut=FAILED, failedAt=now)
            events.append(NotificationFailed(**common, error=result.answer[:1000],
                                             attempts=total))
        else:
            delay = self._policy.delay(attempt)
            update.update(statut=PENDING, nextAttemptAt=now + timedelta(seconds=delay))
        envelopes = [
            new_envelope(e, key=doc["userId"], producer=service,
                         correlation_id=doc.get("correlationId"),
                         causation_id=doc["sourceEventId"])
            for e in events
        ]
        settled = await self._deliveries.settle(doc["_id"], self.run_id, update, entry,
                                                envelopes)
        if envelopes and settled:
            self._publish_soon(DELIVERIES, doc["_id"])
        if step == "SENT":
            metrics.MAILS_SENT.labels(service, doc["categorie"]).inc()
        elif step == "FAILED":
            metrics.MAILS_FAILED.labels(service, doc["categorie"]).inc()
        log.info("delivery_attempted", delivery_id=doc["_id"], attempt=total,
                 outcome=result.outcome, next=step, answer=result.answer[:200])
