"""Composition root of the structures service."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_runtime.publishing import EventPublisher
from chorale_runtime.service import Runtime
from chorale_structures.adapters import attachment_store, structure_store
from chorale_structures.adapters.attachment_store import AttachmentStore
from chorale_structures.adapters.import_jobs import ImportFiles, ImportJobs
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.entrypoints import (
    http_attachments,
    http_bank,
    http_directory,
    http_imports,
    http_requests,
    http_services,
    http_structures,
)
from chorale_structures.entrypoints.access import Access
from chorale_structures.entrypoints.context import HttpContext
from chorale_structures.service_layer import bank_details, requests
from chorale_structures.service_layer.attachments import Attachments
from chorale_structures.service_layer.bank_details import BankDetails
from chorale_structures.service_layer.import_runner import ImportWorker
from chorale_structures.service_layer.requests import Requests
from chorale_structures.settings import StructuresSettings

PENDING_EFFECTS_INTERVAL = 30.0


def build_app(settings: StructuresSettings, **runtime_options) -> FastAPI:
    runtime = Runtime(
        settings,
        produces=[Topic.STRUCTURES, Topic.DIRECTORY],
        outbox_collections=[
            structure_store.COLLECTION,
            bank_details.COLLECTION,
            attachment_store.COLLECTION,
            requests.COLLECTION,
        ],
        **runtime_options,
    )
    db, notify = runtime.db, runtime.publish_soon
    authorizer = runtime.enable_authorization()
    http = HttpContext(runtime.principal_dependency(), Access(authorizer))

    store = StructureStore(db, notify)
    attachments_store = AttachmentStore(db, notify)
    banks = bank_details.bank_store(db, notify)
    bank = BankDetails(banks, store, attachments_store)
    attachments = Attachments(attachments_store, store, banks)
    demandes = Requests(requests.request_store(db, notify), store)
    jobs = ImportJobs(db)
    files = ImportFiles(settings.import_dir, settings.import_max_bytes)
    # The import's events are derived from its file and published again identically after a
    # crash (see service_layer/import_runner.py) rather than stored: its own bulk producer.
    publisher = EventPublisher.bulk(settings.kafka_bootstrap_servers,
                                    f"{settings.client_id}-import", service=settings.service_name,
                                    topic_prefix=settings.topic_prefix)
    worker = ImportWorker(jobs, files, store, publisher.publish,
                          batch_size=settings.import_batch_size,
                          max_detailed=settings.import_max_reported_rejections)

    async def complete_request_effects() -> None:
        while True:
            await demandes.complete_pending()
            await asyncio.sleep(PENDING_EFFECTS_INTERVAL)

    runtime.add_background("search-indexes", lambda: structure_store.ensure_search_indexes(db))
    runtime.add_background("search-index", store.load_search_index)
    runtime.add_background("import-worker", worker.run)
    runtime.add_background("request-effects", complete_request_effects)
    runtime.on_stop(worker.stop)
    runtime.on_stop(publisher.close)
    app = runtime.create_app(
        title="Chorale — Structures",
        description="Structures, services, paramètres, coordonnées bancaires, pièces jointes, "
        "demandes, import du référentiel et annuaire.",
        routers=[
            http_imports.build_router(http, jobs, files, worker),
            http_structures.build_router(http, store),
            http_services.build_router(http, store),
            http_bank.build_router(http, bank),
            http_attachments.build_router(http, attachments),
            http_requests.build_router(http, demandes),
            http_directory.build_router(http, store, settings.export_batch_size),
        ],
    )
    app.state.structures = store  # what tests inspect (its search index)
    return app
