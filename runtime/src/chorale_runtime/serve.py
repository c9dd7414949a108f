"""Runs a service's FastAPI app under uvicorn: SIGTERM stops taking requests, drains, exits."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import uvicorn
from fastapi import FastAPI
from uvicorn._compat import asyncio_run

from chorale_runtime.settings import ServiceSettings


def tune_gc() -> None:
    """What exists once the app is built (modules, schemas, models) lives as long as the
    process: the cyclic collector stops scanning it (`gc.freeze`). And a young-generation
    collection every 10,000 allocations instead of 700: the intake allocates hundreds of
    objects per flow, and frequent collections cost a measurable share of its CPU under load
    (docs/MEASUREMENTS.md)."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    tune_gc()
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # our JSON logging is already configured
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        lifespan="on",
    )
    public = uvicorn.Server(config)
    admin_app = getattr(app.state, "admin_app", None)
    port = settings.operations_port
    if admin_app is None or port is None:
        public.run()
        return
    admin = uvicorn.Server(uvicorn.Config(
        admin_app, host=settings.admin_host, port=port, log_config=None, access_log=False,
        lifespan="off",
    ))
    # The public server handles SIGTERM/SIGINT (and re-raises them once drained); the
    # operations listener follows it.
    admin.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
    asyncio_run(_serve_both(public, admin), loop_factory=config.get_loop_factory())


async def _serve_both(public: uvicorn.Server, admin: uvicorn.Server) -> None:
    operations = asyncio.create_task(admin.serve())
    try:
        await public.serve()
    finally:
        admin.should_exit = True
        await operations
