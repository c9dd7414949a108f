"""Turns a draft and its recipients into messages: one inbox entry and one delivery per
(source, recipient), under a deterministic id, so replaying the source creates nothing new."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chorale_contracts import Envelope
from chorale_notifications import metrics
from chorale_notifications.adapters.deliveries import DISABLED, PENDING, Deliveries
from chorale_notifications.adapters.inbox import Inbox, Preferences
from chorale_notifications.adapters.read_models import People
from chorale_notifications.adapters.templates import render
from chorale_notifications.domain.categories import (
    MAIL_ONLY,
    Category,
    email_enabled,
    priority,
)
from chorale_notifications.domain.compose import Draft, greeting
from chorale_notifications.domain.ids import message_id
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

DEFAULT_PATHS: dict[Category, str] = {
    Category.RATTACHEMENT_DEMANDE: "/approbations",
    Category.RATTACHEMENT_DECISION: "/mon-compte/rattachements",
    Category.GESTIONNAIRE_PRINCIPAL: "/organisation",
    Category.HABILITATIONS: "/mon-compte/habilitations",
    Category.FLUX_REJETE: "/suivi-des-flux",
    Category.FACTURE_MISE_A_DISPOSITION: "/factures-recues",
    Category.FACTURE_STATUT: "/factures-emises",
    Category.FACTURE_COMPLETEE: "/factures-recues",
    Category.SECURITE_COMPTE: "/mon-compte",
}


@dataclass(frozen=True)
class Origin:
    """What caused a message: an event, or a digest of several."""

    event_id: str
    event_type: str
    correlation_id: str

    @classmethod
    def of(cls, envelope: Envelope) -> Origin:
        return cls(str(envelope.event_id), envelope.event_type, envelope.correlation_id)


class Notifier:
    def __init__(self, inbox: Inbox, deliveries: Deliveries, preferences: Preferences,
                 people: People, *, portal_url: str, service: str,
                 enqueue: Callable[[str, int], None] = lambda _id, _priority: None):
        self._inbox = inbox
        self._deliveries = deliveries
        self._preferences = preferences
        self._people = people
        self._portal = portal_url.rstrip("/")
        self._service = service
        self._enqueue = enqueue

    def link(self, path: str) -> str:
        return f"{self._portal}{path}"

    async def notify(self, source_id: str, source: Origin, draft: Draft,
                     user_ids: Iterable[str], *, to: str | None = None,
                     link_id: str | None = None) -> int:
        """Create the message of `draft` for each user; returns how many were new.
        `link_id`: the mail carries that single-use link, minted by identity at sending."""
        created = 0
        for user_id in sorted(set(user_ids)):
            if await self._one(source_id, source, draft, user_id, to, link_id):
                created += 1
        return created

    async def _one(self, source_id: str, source: Origin, draft: Draft, user_id: str,
                   to: str | None, link_id: str | None) -> bool:
        person = await self._people.get(user_id) or {}
        context: dict[str, Any] = {
            "salutation": greeting(person.get("prenom")),
            "lien": self.link(DEFAULT_PATHS[draft.category]),
            "lien_messages": self.link("/mes-messages"),
            **draft.context,
        }
        rendered = render(draft.template, context)
        mid = message_id(source_id, user_id)
        now = datetime.now(UTC)
        common = {"_id": mid, "userId": user_id, "categorie": draft.category.value,
                  "createdAt": now, "sourceEventId": source.event_id,
                  "eventType": source.event_type}
        is_new = True
        if draft.category not in MAIL_ONLY:
            is_new = await self._inbox.add({
                **common, "sujet": rendered.subject, "texte": rendered.text,
                "html": rendered.html, "lu": False,
            })
        choices = await self._preferences.email_choices(user_id)
        wanted = email_enabled(draft.category, choices)
        rank = priority(draft.category)
        new_delivery = await self._deliveries.add({
            **common, "to": to, "subject": rendered.subject, "text": rendered.text,
            "html": rendered.html, "statut": PENDING if wanted else DISABLED,
            "priorite": rank, "tentatives": 0, "nextAttemptAt": now, "updatedAt": now,
            "correlationId": source.correlation_id, "log": [],
            **({"linkId": link_id} if link_id is not None else {}),
        })
        if new_delivery and wanted:
            self._enqueue(mid, rank)
        if new_delivery or is_new:
            metrics.MESSAGES_CREATED.labels(self._service, draft.category.value).inc()
            log.info("message_created", message_id=mid, user_id=user_id,
                     category=draft.category.value, email=wanted)
        return new_delivery
