"""Flows rejected and invoices made available: the notices that come by the hundred when a
partner deposits in bulk. One batch of events is handled at once: recipients, names and
preferences are read once per batch; each recipient gets, per their preference for the
category, a message per notice (immédiat) or the notice added to their digest (one write per
recipient and category), flushed later into one message (see `notice_digests`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from chorale_contracts.events.common import FlowStatus
from chorale_contracts.events.flows import FlowStatusChanged
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_notifications.adapters.inbox import Preferences
from chorale_notifications.adapters.notice_digests import NoticeDigests
from chorale_notifications.adapters.read_models import Organisation, People, StructureNames
from chorale_notifications.domain import compose
from chorale_notifications.domain.categories import Category
from chorale_notifications.domain.compose import Draft
from chorale_notifications.domain.frequency import Frequency, due_at, frequency_of, hour_label
from chorale_notifications.service_layer.notifier import Notifier, Origin
from chorale_notifications.service_layer.triggers import Barrier
from chorale_runtime.consumer import Incoming
from chorale_runtime.logging import bound_contextvars, get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class DigestTiming:
    window_seconds: float
    daily_hour: int
    zone: ZoneInfo
    default: Frequency = Frequency.GROUPE

    def frequency(self, category: Category, choices: dict[str, str]) -> Frequency:
        return frequency_of(category, choices, self.default)

    def due(self, frequency: Frequency, opened_at: datetime) -> datetime:
        return due_at(frequency, opened_at, self.window_seconds, self.daily_hour, self.zone)


@dataclass
class _Notice:
    incoming: Incoming
    category: Category
    draft: Draft
    line: str
    users: set[str]


class BulkNotices:
    def __init__(self, notifier: Notifier, people: People, org: Organisation,
                 names: StructureNames, preferences: Preferences, digests: NoticeDigests,
                 caught_up: Barrier, timing: DigestTiming):
        self._n = notifier
        self._people = people
        self._org = org
        self._names = names
        self._preferences = preferences
        self._digests = digests
        self._caught_up = caught_up
        self._timing = timing

    async def handle(self, events: Sequence[Incoming]) -> None:
        wanted = [i for i in events if isinstance(i.payload, InvoiceMadeAvailable)
                  or (isinstance(i.payload, FlowStatusChanged)
                      and i.payload.statut is FlowStatus.IN_REJETE)]
        if not wanted:
            return
        await self._caught_up(max(i.envelope.occurred_at for i in wanted))
        # What the batch needs from the read models, each read once and concurrently.
        keys = sorted({_recipients_key(i.payload) for i in wanted}, key=str)
        structures = sorted({k[0] for k in keys})
        labels = dict(zip(structures, await asyncio.gather(
            *(self._names.label(s) for s in structures)), strict=True))
        recipients = dict(zip(keys, await asyncio.gather(
            *(self._recipients(*k) for k in keys)), strict=True))
        notices = [self._notice(i, labels, recipients) for i in wanted]
        users = sorted(await self._people.active(set().union(*(n.users for n in notices))))
        choices = dict(zip(users, await asyncio.gather(
            *(self._preferences.frequency_choices(u) for u in users)), strict=True))
        frequencies: dict[tuple[str, Category], Frequency] = {}
        digests: dict[tuple[str, Category], dict[str, dict[str, Any]]] = {}
        for notice in notices:
            env = notice.incoming.envelope
            immediate = set()
            for user in sorted(notice.users & set(users)):
                frequency = self._timing.frequency(notice.category, choices[user])
                frequencies[(user, notice.category)] = frequency
                if frequency is Frequency.IMMEDIAT:
                    immediate.add(user)
                    continue
                digests.setdefault((user, notice.category), {})[str(env.event_id)] = {
                    "at": env.occurred_at, "ligne": notice.line,
                    "correlationId": env.correlation_id,
                }
            if immediate:
                await self._n.notify(str(env.event_id), Origin.of(env), notice.draft, immediate)
            # One line per notice under its correlation id: a deposit is followed here too.
            with bound_contextvars(correlation_id=env.correlation_id,
                                   event_id=str(env.event_id)):
                log.info("notice_recorded", category=notice.category.value,
                         immediate=len(immediate), grouped=len(notice.users) - len(immediate))
        now = datetime.now(UTC)
        await asyncio.gather(*(
            self._digests.add(user, category.value, items, now,
                              partial(self._timing.due, frequencies[(user, category)]))
            for (user, category), items in digests.items()))

    async def _recipients(self, structure: str, code_service: str | None,
                          category: Category) -> set[str]:
        if category is Category.FLUX_REJETE:
            return await self._org.attached_users(structure)
        return await self._org.invoice_readers(structure, code_service)

    def _notice(self, incoming: Incoming, labels: dict[str, str],
                recipients: dict[tuple[str, str | None, Category], set[str]]) -> _Notice:
        ev = incoming.payload
        key = _recipients_key(ev)
        label = labels[key[0]]
        at = hour_label(incoming.envelope.occurred_at, self._timing.zone)
        if isinstance(ev, FlowStatusChanged):
            draft = compose.flow_rejected(ev, label)
            draft.context["lien"] = self._n.link(f"/suivi-des-flux/{ev.numeroFluxDepot}")
            line = compose.flow_rejected_line(ev, label, at)
        else:
            draft = compose.invoice_available(ev, label)
            draft.context["lien"] = self._n.link(f"/factures-recues/{ev.invoiceId}")
            line = compose.invoice_available_line(ev, at)
        return _Notice(incoming, key[2], draft, line, set(recipients[key]))


def _recipients_key(ev: FlowStatusChanged | InvoiceMadeAvailable
                    ) -> tuple[str, str | None, Category]:
    if isinstance(ev, FlowStatusChanged):
        return ev.structurePartenaire, None, Category.FLUX_REJETE
    return ev.destinataire, ev.codeService, Category.FACTURE_MISE_A_DISPOSITION
