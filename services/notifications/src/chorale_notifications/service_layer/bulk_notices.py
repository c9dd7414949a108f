"""Flows rejected and invoices made available: the notices that come by the hundred when a
partner deposits in bulk. One batch of events is handled at once: recipients, names and
preferences are read once per batch; each recipient gets, per their preference for the
category, a message per notice (immédiat) or the notice added to their digest (one write per
recipient and category), flushed later into one message (see `notice_digests`)."""

from __future__ import annotations

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
        labels: dict[str, str] = {}
        recipients: dict[tuple[str, str | None, Category], set[str]] = {}
        notices = [await self._notice(i, labels, recipients) for i in wanted]
        active = await self._people.active(set().union(*(n.users for n in notices)))
        frequencies: dict[tuple[str, Category], Frequency] = {}
        digests: dict[tuple[str, Category], dict[str, dict[str, Any]]] = {}
        for notice in notices:
            immediate = set()
            for user in sorted(notice.users & active):
                frequency = await self._frequency(user, notice.category, frequencies)
                if frequency is Frequency.IMMEDIAT:
                    immediate.add(user)
                    continue
                env = notice.incoming.envelope
                digests.setdefault((user, notice.category), {})[str(env.event_id)] = {
                    "at": env.occurred_at, "ligne": notice.line,
                    "correlationId": env.correlation_id,
                }
            if immediate:
                env = notice.incoming.envelope
                await self._n.notify(str(env.event_id), Origin.of(env), notice.draft, immediate)
        now = datetime.now(UTC)
        for (user, category), items in digests.items():
            frequency = frequencies[(user, category)]
            await self._digests.add(user, category.value, items, now,
                                    partial(self._timing.due, frequency))

    async def _frequency(self, user: str, category: Category,
                         cache: dict[tuple[str, Category], Frequency]) -> Frequency:
        if (user, category) not in cache:
            choices = await self._preferences.frequency_choices(user)
            cache[(user, category)] = self._timing.frequency(category, choices)
        return cache[(user, category)]

    async def _notice(self, incoming: Incoming, labels: dict[str, str],
                      recipients: dict[tuple[str, str | None, Category], set[str]]) -> _Notice:
        ev = incoming.payload
        at = hour_label(incoming.envelope.occurred_at, self._timing.zone)
        if isinstance(ev, FlowStatusChanged):
            structure, code_service, category = ev.structurePartenaire, None, Category.FLUX_REJETE
        else:
            structure, code_service = ev.destinataire, ev.codeService
            category = Category.FACTURE_MISE_A_DISPOSITION
        if structure not in labels:
            labels[structure] = await self._names.label(structure)
        key = (structure, code_service, category)
        if key not in recipients:
            recipients[key] = (await self._org.attached_users(structure)
                               if category is Category.FLUX_REJETE
                               else await self._org.invoice_readers(structure, code_service))
        if isinstance(ev, FlowStatusChanged):
            draft = compose.flow_rejected(ev, labels[structure])
            draft.context["lien"] = self._n.link(f"/suivi-des-flux/{ev.numeroFluxDepot}")
            line = compose.flow_rejected_line(ev, labels[structure], at)
        else:
            draft = compose.invoice_available(ev, labels[structure])
            draft.context["lien"] = self._n.link(f"/factures-recues/{ev.invoiceId}")
            line = compose.invoice_available_line(ev, at)
        return _Notice(incoming, category, draft, line, set(recipients[key]))
