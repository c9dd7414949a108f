"""Flushes due habilitation digests into one message per user (see adapters/digests.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from chorale_notifications.adapters.digests import HabilitationDigests
from chorale_notifications.adapters.read_models import People, StructureNames
from chorale_notifications.domain.categories import Category
from chorale_notifications.domain.compose import Draft, habilitation_line
from chorale_notifications.service_layer.notifier import Notifier, Origin

DIGEST_EVENT_TYPE = "habilitation.digest"


class DigestFlusher:
    def __init__(self, digests: HabilitationDigests, notifier: Notifier, names: StructureNames,
                 people: People, window: float):
        self._digests = digests
        self._notifier = notifier
        self._names = names
        self._people = people
        self._window = window

    async def run(self) -> None:
        while True:
            await self.flush_due()
            await asyncio.sleep(min(max(self._window / 2, 0.2), 2.0))

    async def flush_due(self) -> int:
        cutoff = datetime.now(UTC) - timedelta(seconds=self._window)
        flushed = 0
        for doc in await self._digests.due(cutoff):
            changes = sorted(doc["changes"].items(), key=lambda kv: kv[1]["at"])
            names: dict[str, str] = {}
            lines = []
            for _event_id, change in changes:
                s = change["structure"]
                if s not in names:
                    names[s] = await self._names.label(s)
                lines.append(habilitation_line(change, names[s]))
            count = len(lines)
            draft = Draft(Category.HABILITATIONS, "habilitations", {
                "changements": lines,
                "nombre": f"{count} modification{'s' if count > 1 else ''}",
            })
            origin = Origin(doc["digestId"], DIGEST_EVENT_TYPE,
                            changes[0][1].get("correlationId") or doc["digestId"])
            users = await self._people.active({doc["_id"]})
            await self._notifier.notify(f"habilitations|{doc['digestId']}", origin, draft, users)
            await self._digests.clear(doc["_id"], doc["digestId"], [k for k, _ in changes],
                                     datetime.now(UTC))
            flushed += 1
        return flushed
