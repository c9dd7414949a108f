"""Composition root of the portal: its session store, the services' APIs, the pages.

The portal has no Kafka side and no business data: its runtime is a web application, the
services' HTTP clients and the small session database (no `Runtime`: that one brings a
producer, an outbox relay and consumers the portal has no use for)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chorale_portal.adapters.services_api import ServicesApi
from chorale_portal.adapters.session_store import MongoSessionStore, SessionStore
from chorale_portal.entrypoints import (
    pages_account,
    pages_approvals,
    pages_attachments,
    pages_auth,
    pages_backoffice,
    pages_bank,
    pages_connections,
    pages_deposit,
    pages_flows,
    pages_habilitations,
    pages_invitations,
    pages_invoices,
    pages_messages,
    pages_services,
    pages_structures,
    pages_users,
    web,
)
from chorale_portal.service_layer.sessions import Sessions
from chorale_portal.settings import PortalSettings
from chorale_runtime.http import install_middleware, install_probes
from chorale_runtime.logging import configure, get_logger
from chorale_runtime.mongo import connect
from chorale_runtime.serialized import SerializedDatabase

log = get_logger(__name__)

PURGE_INTERVAL_SECONDS = 600
STATIC = Path(__file__).resolve().parent / "static"


def build_app(settings: PortalSettings, *, transport: httpx.AsyncBaseTransport | None = None,
              store: SessionStore | None = None, configure_logging: bool = True) -> FastAPI:
    """`transport` and `store` replace the network and the database in unit tests."""
    if configure_logging:
        configure(settings.service_name, settings.log_level, settings.log_format)
    mongo: Any = None
    if store is None:
        mongo = connect(settings.mongodb_uri.get_secret_value(), settings.client_id)
        store = MongoSessionStore(SerializedDatabase(mongo[settings.database_name]))
    api = ServicesApi({"identity": settings.identity_url, "structures": settings.structures_url,
                       "habilitations": settings.habilitations_url,
                       "invoice-intake": settings.intake_url,
                       "notifications": settings.notifications_url,
                       "invoices": settings.invoices_url},
                      settings.service_timeout_seconds, transport=transport)
    sessions = Sessions(store, api, idle=timedelta(minutes=settings.session_idle_minutes),
                        max_age=timedelta(hours=settings.session_max_hours))

    async def purge_expired_sessions() -> None:
        while True:
            try:
                await store.purge_expired()
            except Exception as exc:  # the database may be restarting: next round
                log.warning("session_purge_failed", error=str(exc))
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        purge = asyncio.create_task(purge_expired_sessions(), name="portal:session-purge")
        log.info("service_started", http=f"{settings.http_host}:{settings.http_port}")
        try:
            yield
        finally:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            await api.close()
            if mongo is not None:
                await mongo.close()
            log.info("service_stopped")

    async def database_ready() -> tuple[bool, str]:
        if mongo is None:
            return True, "ok"
        await asyncio.wait_for(mongo[settings.database_name].command("ping"), 3)
        return True, "ok"

    app = FastAPI(title="Chorale — Portail", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.portal = web.Portal(settings, api, sessions)
    web.install(app)  # inner: every failure becomes a French page
    install_middleware(app, settings.service_name)  # outer: correlation ids, metrics, logs
    install_probes(app, settings.service_name, {"database": database_ready})
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages_auth, pages_account, pages_invitations, pages_structures,
                   pages_services, pages_bank, pages_attachments, pages_habilitations,
                   pages_approvals, pages_users, pages_connections, pages_deposit,
                   pages_backoffice, pages_flows, pages_invoices, pages_messages):
        app.include_router(module.build_router())
    return app
