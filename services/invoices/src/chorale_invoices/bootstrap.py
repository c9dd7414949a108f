"""Composition root of the invoices service."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_invoices.adapters.cdar_store import CdarStore
from chorale_invoices.adapters.directory_store import DirectoryStore
from chorale_invoices.adapters.edi_out import EdiOut
from chorale_invoices.adapters.intake_client import IntakeClient
from chorale_invoices.adapters.invoice_store import (
    INDEXES,
    INVOICES,
    AttachmentStore,
    InvoiceStore,
)
from chorale_invoices.adapters.list_index import ListIndex, row_of_document
from chorale_invoices.domain.errors import InvoiceError
from chorale_invoices.entrypoints.access import Access
from chorale_invoices.entrypoints.http_api import Context, build_router
from chorale_invoices.entrypoints.subscriptions import (
    cdar_subscription,
    directory_subscription,
    invoices_subscription,
)
from chorale_invoices.metrics import INDEXED_INVOICES
from chorale_invoices.service_layer.cdar_output import CdarOutput
from chorale_invoices.service_layer.lifecycle import Lifecycle
from chorale_invoices.settings import InvoicesSettings
from chorale_runtime.logging import get_logger
from chorale_runtime.service import Runtime

__all__ = ["InvoiceError", "build_app"]
log = get_logger(__name__)


def build_app(settings: InvoicesSettings, **runtime_options: Any) -> FastAPI:
    # `invoices` is NOT an outbox collection of the relay's sweep (a filtered scan of every
    # invoice on FerretDB): see adapters/invoice_store.py.
    runtime = Runtime(settings, produces=[Topic.INVOICE_STATUS], indexes=INDEXES,
                      **runtime_options)
    authorizer = runtime.enable_authorization()
    store = InvoiceStore(runtime.db, notify=runtime.publish_soon)
    directory = DirectoryStore(runtime.db)
    index = ListIndex()
    lifecycle = Lifecycle(store, directory, index, producer=settings.service_name)
    cdar = CdarStore(runtime.db)
    edi = EdiOut(settings.edi_root) if settings.edi_root else None
    runtime.subscribe(directory_subscription(directory))
    runtime.subscribe(invoices_subscription(lifecycle))
    runtime.subscribe(cdar_subscription(CdarOutput(cdar, edi, settings.service_name)))

    async def load_index() -> None:
        # Before the intake's events are applied: a row they add must not be overwritten by
        # an older one read here (ListIndex.put keeps the highest version anyway).
        index.load([row_of_document(doc) async for doc in store.rows()])
        INDEXED_INVOICES.labels(settings.service_name).set(len(index))
        log.info("list_index_loaded", invoices=len(index))

    async def ready() -> tuple[bool, str]:
        return index.loaded, "ok" if index.loaded else "chargement de l'index des listes"

    async def prepare_edi() -> None:
        if settings.edi_root is not None:
            await asyncio.to_thread(settings.edi_root.mkdir, parents=True, exist_ok=True)

    runtime.readiness["index"] = ready
    runtime.add_background("list-index", load_index)
    runtime.add_background("edi-root", prepare_edi)
    ctx = Context(settings=settings, lifecycle=lifecycle, index=index, directory=directory,
                  attachments=AttachmentStore(runtime.db), cdar=cdar, access=Access(authorizer),
                  intake=IntakeClient(settings.intake_url))
    app = runtime.create_app(
        title="Chorale — Factures",
        description="Factures reçues, factures émises, statuts de traitement, messages CDAR.",
        routers=[build_router(ctx, runtime.principal_dependency())],
    )
    app.state.invoices = {"index": index, "store": store, "collection": INVOICES}
    return app
