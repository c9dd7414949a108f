"""Composition root of the notifications service."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_notifications.adapters import deliveries as deliveries_mod
from chorale_notifications.adapters import inbox as inbox_mod
from chorale_notifications.adapters.deliveries import DELIVERIES, Deliveries
from chorale_notifications.adapters.digests import HabilitationDigests
from chorale_notifications.adapters.flow_stats import FlowStats
from chorale_notifications.adapters.inbox import Inbox, Preferences
from chorale_notifications.adapters.mail_links import MailLinks
from chorale_notifications.adapters.notice_digests import NoticeDigests
from chorale_notifications.adapters.read_models import Organisation, People, StructureNames
from chorale_notifications.adapters.smtp import Mailer
from chorale_notifications.adapters.structure_directory import StructureDirectory
from chorale_notifications.domain.frequency import Frequency, labels
from chorale_notifications.entrypoints.http_me import me_router
from chorale_notifications.entrypoints.http_operations import operations_router
from chorale_notifications.entrypoints.subscriptions import (
    account_mail_subscription,
    caught_up_barrier,
    invoice_status_subscription,
    notify_subscription,
    read_model_subscription,
    structure_subscription,
    suivi_subscription,
)
from chorale_notifications.service_layer.bulk_notices import BulkNotices, DigestTiming
from chorale_notifications.service_layer.digests import DigestFlusher
from chorale_notifications.service_layer.dispatcher import Dispatcher
from chorale_notifications.service_layer.notice_digests import NoticeDigestFlusher
from chorale_notifications.service_layer.notifier import Notifier
from chorale_notifications.service_layer.triggers import Triggers
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.service import Runtime


def build_app(settings: NotificationsSettings, **runtime_options) -> FastAPI:
    runtime = Runtime(
        settings, produces=[Topic.NOTIFICATIONS], outbox_collections=[DELIVERIES],
        indexes=[*inbox_mod.INDEXES, *deliveries_mod.INDEXES], **runtime_options,
    )
    db = runtime.db
    authorizer = runtime.enable_authorization()
    current = runtime.principal_dependency()

    known = StructureDirectory(db)
    people, org = People(db), Organisation(db)
    names = StructureNames(org, known)
    inbox, preferences, deliveries = Inbox(db), Preferences(db), Deliveries(db)
    flow_stats, digests = FlowStats(db), HabilitationDigests(db)

    dispatcher = Dispatcher(deliveries, people, Mailer(settings), settings, runtime.publish_soon,
                            MailLinks(settings))
    notifier = Notifier(inbox, deliveries, preferences, people, portal_url=settings.portal_url,
                        service=settings.service_name, enqueue=dispatcher.enqueue)

    read_models = [
        runtime.subscribe(structure_subscription(known)),
        runtime.subscribe(read_model_subscription(people, org)),
    ]
    barrier = caught_up_barrier(read_models, settings.read_model_wait, runtime.stopping)
    triggers = Triggers(notifier, people, org, names, digests, barrier)
    timing = DigestTiming(settings.notice_digest_seconds, settings.daily_digest_hour,
                          ZoneInfo(settings.timezone), Frequency(settings.notice_frequency))
    notice_digests = NoticeDigests(db)
    bulk = BulkNotices(notifier, people, org, names, preferences, notice_digests, barrier,
                       timing)
    runtime.subscribe(account_mail_subscription(triggers))
    runtime.subscribe(notify_subscription(triggers, bulk))
    runtime.subscribe(invoice_status_subscription(triggers))
    runtime.subscribe(suivi_subscription(flow_stats))

    flusher = DigestFlusher(digests, notifier, names, people,
                            settings.habilitations_digest_seconds)
    runtime.add_background("habilitation-digests", flusher.run)
    notice_flusher = NoticeDigestFlusher(notice_digests, notifier, people, preferences, timing)
    runtime.add_background("notice-digests", notice_flusher.run)
    runtime.add_background("mail-dispatcher", dispatcher.run)
    runtime.add_background("delivery-metrics", dispatcher.sample_metrics)
    async def stop_sending() -> None:
        await dispatcher.stop()
        # Let the relay publish the last sent/failed events while nothing else writes, so it
        # is idle (not woken) when the runtime cancels it.
        await runtime.relay.wait_idle(2.0)

    runtime.on_stop(stop_sending)

    return runtime.create_app(
        title="Chorale — Notifications",
        description="Courriels, « Mes messages », suivi des envois et agrégats du suivi des flux.",
        routers=[
            me_router(inbox, preferences, current,
                      labels(settings.notice_digest_seconds, settings.daily_digest_hour),
                      Frequency(settings.notice_frequency)),
            operations_router(deliveries, flow_stats, authorizer, current, dispatcher.wake),
        ],
    )
