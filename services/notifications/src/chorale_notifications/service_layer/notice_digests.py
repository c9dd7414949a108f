"""Flushes due digests of bulk notices into one message each (see adapters/notice_digests.py):
« 12 flux rejetés entre 10 h 02 et 10 h 05 », each one listed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from typing import Any

from chorale_notifications.adapters.inbox import Preferences
from chorale_notifications.adapters.notice_digests import NoticeDigests
from chorale_notifications.adapters.read_models import People
from chorale_notifications.domain.categories import Category
from chorale_notifications.domain.compose import Draft
from chorale_notifications.domain.frequency import digest_subject
from chorale_notifications.service_layer.bulk_notices import DigestTiming
from chorale_notifications.service_layer.notifier import Notifier, Origin

DIGEST_EVENT_TYPE = "notice.digest"
TEMPLATES = {Category.FLUX_REJETE: "flux_rejetes_groupes",
             Category.FACTURE_MISE_A_DISPOSITION: "factures_groupees"}


def intro(category: Category, count: int) -> str:
    if category is Category.FLUX_REJETE:
        return "Le flux suivant a été rejeté (IN_REJETE) :" if count == 1 else \
            f"Les {count} flux suivants ont été rejetés (IN_REJETE) :"
    return "La facture suivante a été mise à disposition :" if count == 1 else \
        f"Les {count} factures suivantes ont été mises à disposition :"


class NoticeDigestFlusher:
    def __init__(self, digests: NoticeDigests, notifier: Notifier, people: People,
                 preferences: Preferences, timing: DigestTiming, interval: float = 1.0):
        self._digests = digests
        self._notifier = notifier
        self._people = people
        self._preferences = preferences
        self._timing = timing
        self._interval = interval

    async def run(self) -> None:
        while True:
            await self.flush_due()
            await asyncio.sleep(self._interval)

    async def flush_due(self) -> int:
        flushed = 0
        for doc in await self._digests.due(datetime.now(UTC)):
            await self._flush(doc)
            flushed += 1
        return flushed

    def draft(self, category: Category, items: list[dict[str, Any]]) -> Draft:
        zone = self._timing.zone
        return Draft(category, TEMPLATES[category], {
            "sujet": digest_subject(category, len(items), items[0]["at"], items[-1]["at"], zone),
            "intro": intro(category, len(items)),
            "lignes": [i["ligne"] for i in items],
        })

    async def _flush(self, doc: dict[str, Any]) -> None:
        category = Category(doc["categorie"])
        items = sorted(doc["items"].values(), key=lambda i: i["at"])
        digest_id = doc["digestId"]
        origin = Origin(digest_id, DIGEST_EVENT_TYPE, items[0].get("correlationId") or digest_id)
        users = await self._people.active({doc["userId"]})
        await self._notifier.notify(f"digest|{doc['_id']}|{digest_id}", origin,
                                    self.draft(category, items), users)
        frequency = self._timing.frequency(
            category, await self._preferences.frequency_choices(doc["userId"]))
        await self._digests.clear(doc, datetime.now(UTC), partial(self._timing.due, frequency))
