"""Composition root of the invoice-intake service."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_intake.adapters import flow_store
from chorale_intake.adapters.accounts_model import AccountsModel, TechnicalAccount
from chorale_intake.adapters.analysis_pool import AnalysisPool, Limits
from chorale_intake.adapters.archive import Archive
from chorale_intake.adapters.cr_output import CrOutput
from chorale_intake.adapters.directory_model import DirectoryModel
from chorale_intake.adapters.edi_folders import EdiFolders
from chorale_intake.adapters.flow_index import FlowIndex
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.adapters.invoice_keys import InvoiceKeys
from chorale_intake.adapters.pending_store import PendingStore
from chorale_intake.entrypoints.edi_watcher import EdiWatcher
from chorale_intake.entrypoints.http_api import build_router
from chorale_intake.entrypoints.http_original import build_original_router
from chorale_intake.entrypoints.http_portal import build_portal_router
from chorale_intake.entrypoints.subscriptions import directory_subscription, identity_subscription
from chorale_intake.service_layer.announcer import Announcer
from chorale_intake.service_layer.duplicates import Duplicates
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_intake.service_layer.processing import Processor
from chorale_intake.service_layer.receipts import Receipts
from chorale_intake.service_layer.recovery import Recovery
from chorale_intake.service_layer.terminal_records import TerminalRecords
from chorale_intake.settings import IntakeSettings
from chorale_runtime.publishing import EventPublisher
from chorale_runtime.retry import Backoff, RetryPolicy
from chorale_runtime.service import Runtime


def build_app(
    settings: IntakeSettings, *, analysis_pool: AnalysisPool | None = None, **runtime_options: Any
) -> FastAPI:
    """`analysis_pool` lets tests inject validation failures; everything else is real."""
    runtime = Runtime(
        settings, produces=[Topic.FLOWS, Topic.INVOICES], indexes=flow_store.INDEXES,
        **runtime_options,
    )
    authorizer = runtime.enable_authorization()
    owner, producer = settings.instance_id, settings.service_name
    folders = EdiFolders(settings.edi_root, settings.edi_settle_delay)
    archive = Archive(settings.archive_dir, owner, folders)
    store = FlowStore(runtime.db, PendingStore(runtime.db, owner),
                      FlowIndex() if settings.flow_list == "memory" else None)
    directory = DirectoryModel(runtime.db)

    async def open_folders(account: TechnicalAccount) -> None:
        await asyncio.to_thread(folders.ensure, account.id)

    accounts = AccountsModel(runtime.db, on_active=open_folders)
    publisher = EventPublisher(runtime.producer, service=producer,
                               topic_prefix=settings.topic_prefix)
    pool = analysis_pool or AnalysisPool(
        settings.worker_count,
        Limits(settings.max_bytes, settings.max_depth, settings.max_xsd_errors,
               settings.br_fr_mode),
    )
    backoff = Backoff(0.1, settings.retry_backoff_max)
    output = CrOutput(folders, settings.cr_delay)
    announcer = Announcer(publisher=publisher, output=output, backoff=backoff)
    processor = Processor(
        pool=pool, archive=archive, directory=directory,
        duplicates=Duplicates(InvoiceKeys(runtime.db), store), timezone=settings.timezone,
    )
    pipeline = Pipeline(
        processor, records=TerminalRecords(store, producer=producer), announcer=announcer,
        batch_size=settings.batch_size, max_in_flight=settings.max_in_flight,
        concurrency=max(3, 2 * settings.worker_count + 2),
        retry=RetryPolicy(settings.retry_max_attempts - 1, settings.retry_backoff,
                          settings.retry_backoff_max),
        backoff=backoff,
    )
    receipts = Receipts(store=store, archive=archive, pipeline=pipeline, producer=producer,
                        owner=owner, backoff=backoff)
    recovery = Recovery(
        store=store, archive=archive, announcer=announcer, receipts=receipts,
        pipeline=pipeline, owner=owner, producer=producer,
        max_recoveries=settings.max_recoveries, stale_after=settings.stale_after,
    )
    watcher = EdiWatcher(
        folders=folders, accounts=accounts, receipts=receipts, pipeline=pipeline,
        batch_size=settings.edi_batch_size, scan_interval=settings.edi_scan_interval,
    )
    runtime.subscribe(directory_subscription(directory, owner))
    runtime.subscribe(identity_subscription(accounts, owner))
    validating = asyncio.Event()

    async def start_up() -> None:
        for folder in (settings.edi_root, settings.archive_dir):
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(archive.prepare)
        await pool.start()
        validating.set()
        await directory.load()
        await accounts.load()
        await recovery.at_start()
        await store.load_index()

    async def run_pipeline() -> None:
        await validating.wait()
        await pipeline.run()

    async def run_watcher() -> None:
        await recovery.done.wait()
        await watcher.run()

    async def run_recovery() -> None:
        await recovery.done.wait()
        await recovery.periodically(settings.recovery_interval)

    async def ready() -> tuple[bool, str]:
        waiting = [name for name, ok in (
            ("validation", validating.is_set()), ("annuaire", directory.loaded),
            ("comptes techniques", accounts.loaded), ("reprise", recovery.done.is_set()),
            ("liste des flux", store.index is None or store.index.loaded),
        ) if not ok]
        return not waiting, "ok" if not waiting else "en attente : " + ", ".join(waiting)

    async def stop() -> None:
        await watcher.stop(settings.shutdown_timeout / 4)
        await pipeline.stop(settings.shutdown_timeout / 2)
        await pipeline.drain(settings.shutdown_timeout / 4)
        await pool.stop()

    runtime.readiness["intake"] = ready
    runtime.add_background("intake-start", start_up)
    runtime.add_background("cr-output", output.run)
    runtime.add_background("intake-pipeline", run_pipeline)
    runtime.add_background("edi-watcher", run_watcher)
    runtime.add_background("intake-recovery", run_recovery)
    runtime.on_stop(stop)
    router = build_router(
        settings=settings, receipts=receipts, store=store, accounts=accounts,
        pipeline=pipeline, authorizer=authorizer, current=runtime.principal_dependency(),
    )
    app = runtime.create_app(
        title="Chorale — Dépôt de factures",
        description="Flux EDI et API, validation, comptes rendus, suivi des flux.",
        routers=[build_portal_router(
            settings=settings, receipts=receipts, directory=directory, authorizer=authorizer,
            current=runtime.principal_dependency()), router, build_original_router(
            store=store, archive=archive, authorizer=authorizer,
            current=runtime.principal_dependency())],
    )
    app.state.intake = {"directory": directory, "accounts": accounts, "pipeline": pipeline,
                        "store": store, "folders": folders}
    return app
