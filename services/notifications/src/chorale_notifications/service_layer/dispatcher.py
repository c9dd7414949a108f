"""Sends pending deliveries, most urgent first.

Deliveries wait in memory, one queue per priority (account security, normal, bulk notices),
ordered by when they are due: the notifier queues each new delivery, a transient failure
queues its retry, and a scan of the database (at start-up, then every
CHORALE_DISPATCH_INTERVAL, or when an operator relaunches one) catches anything else. At most
CHORALE_SMTP_CONCURRENCY mails are in flight and bulk ones never take the last slot, so an
account-security mail never waits behind a flood of notices.

Each delivery is claimed (PENDING → SENDING, compare-and-set under the runtime's per-document
serialization) before its SMTP attempt, and the outcome is recorded with its event in one
update, so within a process run no message goes out twice. At start-up, SENDING deliveries of
a dead run are released (their mail may or may not have left; a resend carries the same
Message-ID). At shutdown no new claim is made and sends in flight finish. Consumers only write
deliveries: a slow or failing SMTP server delays mail, never them."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import html
import itertools
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
from chorale_notifications.domain.categories import BULK, NORMAL, URGENT
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
        self._queues: dict[int, list[tuple[float, int, str]]] = {URGENT: [], NORMAL: [], BULK: []}
        self._queued: set[str] = set()
        self._order = itertools.count()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._bulk_inflight = 0
        # Bulk notices leave one slot free for the others (when there are two or more).
        self._bulk_slots = max(1, settings.smtp_concurrency - 1)
        self._scan_requested = True
        self._scanned_at = 0.0
        self._stopping = False

    # -- queueing ---------------------------------------------------------------------------
    def enqueue(self, delivery_id: str, rank: int = NORMAL, due: datetime | None = None) -> None:
        """Queue a PENDING delivery (due now unless `due` says later)."""
        if delivery_id in self._queued or delivery_id in self._inflight:
            return
        when = due.timestamp() if due else time.time()
        queue = self._queues.get(rank, self._queues[NORMAL])
        heapq.heappush(queue, (when, next(self._order), delivery_id))
        self._queued.add(delivery_id)
        self._wakeup.set()

    def wake(self) -> None:
        """Something changed in the database (an operator relaunched a delivery): scan."""
        self._scan_requested = True
        self._wakeup.set()

    @property
    def queued(self) -> int:
        return len(self._queued)

    # -- the loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        released = await self._deliveries.release_abandoned(self.run_id)
        if released:
            log.warning("deliveries_released_after_crash", count=len(released))
        while not self._stopping:
            self._wakeup.clear()
            if self._scan_requested or \
                    time.monotonic() - self._scanned_at >= self._s.dispatch_interval:
                await self._scan()
            self._start_due()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # coincides with the wake-up, and the task would never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sleep()):
                    await self._wakeup.wait()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=self._s.smtp_timeout * 2)
        await self._mailer.close()

    async def _scan(self) -> None:
        self._scan_requested = False
        self._scanned_at = time.monotonic()
        for doc in await self._deliveries.pending():
            self.enqueue(doc["_id"], doc.get("priorite", NORMAL), doc.get("nextAttemptAt"))

    def _sleep(self) -> float:
        until_scan = self._s.dispatch_interval - (time.monotonic() - self._scanned_at)
        heads = [q[0][0] for q in self._queues.values() if q]
        until_due = min(heads) - time.time() if heads else until_scan
        return max(0.01, min(until_scan, until_due))

    def _start_due(self) -> None:
        now = time.time()
        for rank in (URGENT, NORMAL, BULK):
            queue = self._queues[rank]
            while queue and queue[0][0] <= now and not self._stopping:
                if len(self._inflight) >= self._s.smtp_concurrency:
                    return
                if rank == BULK and self._bulk_inflight >= self._bulk_slots:
                    break
                _due, _n, delivery_id = heapq.heappop(queue)
                self._queued.discard(delivery_id)
                self._start(delivery_id, rank)

    def _start(self, delivery_id: str, rank: int) -> None:
        task = asyncio.create_task(self._deliver(delivery_id, rank))
        self._inflight[delivery_id] = task
        if rank == BULK:
            self._bulk_inflight += 1

        def done(_t: asyncio.Task[None]) -> None:
            self._inflight.pop(delivery_id, None)
            if rank == BULK:
                self._bulk_inflight -= 1
            self._wakeup.set()

        task.add_done_callback(done)

    async def sample_metrics(self, interval: float = 15.0) -> None:
        """Pending from the queues (no scan); parked FAILED ones counted now and then, apart
        from the sending loop (a count scans the collection on FerretDB)."""
        service = self._s.service_name
        while True:
            metrics.DELIVERIES_PENDING.labels(service).set(len(self._queued) + len(self._inflight))
            metrics.DELIVERIES_FAILED.labels(service).set(await self._deliveries.count(FAILED))
            await asyncio.sleep(interval)

    async def _deliver(self, delivery_id: str, rank: int) -> None:
        if self._stopping:
            return
        doc = await self._deliveries.claim(delivery_id, self.run_id)
        if doc is None:
            return
        try:
            result, address = await self._attempt(doc)
        except Exception as exc:  # the read model or rendering broke: count it, retry
            result, address = SendResult("TRANSIENT", f"{type(exc).__name__}: {exc}"), None
        retry_at = await self._settle(doc, result, address)
        if retry_at is not None:
            self.enqueue(delivery_id, rank, retry_at)

    async def _attempt(self, doc: dict[str, Any]) -> tuple[SendResult, str | None]:
        address = doc.get("to")
        if not address:
            person = await self._people.get(doc["userId"]) or {}
            if person.get("active") is False:
                return SendResult("PERMANENT", "compte utilisateur désactivé"), None
            address = person.get("contactEmail")
            if not address:
                return SendResult("TRANSIENT", "adresse de contact encore inconnue"), None
        try:
            mail = await self.mail_for(doc, address)
        except LinkUnavailable as exc:
            return SendResult("PERMANENT", f"aucun envoi : {exc}"), None
        except LinkServiceError as exc:
            return SendResult("TRANSIENT", f"lien non obtenu : {exc}"), None
        return await self._mailer.send(mail), address

    async def mail_for(self, doc: dict[str, Any], address: str) -> Mail:
        """The one place a mail is put together at send time, from its stored delivery. A
        single-use link is minted now, once the address is known, and lives in this mail only."""
        text, html_body = doc["text"], doc["html"]
        if "linkId" in doc:
            link = await self._links.mint(doc["linkId"])
            text = text.replace(LINK_PLACEHOLDER, link)
            html_body = html_body.replace(LINK_PLACEHOLDER, html.escape(link))
        return Mail(to=address, subject=doc["subject"], text=text, html=html_body,
                    message_id=mail_message_id(doc["_id"], self._s.message_id_domain),
                    category=doc["categorie"])

    async def _settle(self, doc: dict[str, Any], result: SendResult, address: str | None
                      ) -> datetime | None:
        """Record the attempt; returns when to try again (None: sent or given up)."""
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
        events: list[NotificationSent | NotificationFailed] = []
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
            retry_at = now + timedelta(seconds=self._policy.delay(attempt))
            update.update(statut=PENDING, nextAttemptAt=retry_at)
        envelopes = [
            new_envelope(e, key=doc["userId"], producer=service,
                         correlation_id=doc.get("correlationId"),
                         causation_id=doc["sourceEventId"])
            for e in events
        ]
        settled = await self._deliveries.settle(doc["_id"], self.run_id, doc["version"],
                                                update, entry, envelopes)
        if envelopes and settled:
            self._publish_soon(DELIVERIES, doc["_id"])
        if step == "SENT":
            metrics.MAILS_SENT.labels(service, doc["categorie"]).inc()
        elif step == "FAILED":
            metrics.MAILS_FAILED.labels(service, doc["categorie"]).inc()
        log.info("delivery_attempted", delivery_id=doc["_id"], attempt=total,
                 outcome=result.outcome, next=step, answer=result.answer[:200])
        return update.get("nextAttemptAt") if settled and step == "RETRY" else None
