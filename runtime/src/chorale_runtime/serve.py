"""Runs a service's FastAPI app under uvicorn: SIGTERM stops taking requests, drains, exits."""

from __future__ import annotations

import gc

import uvicorn
from fastapi import FastAPI

from chorale_runtime.settings import ServiceSettings


def tune_gc() -> None:
    """What exists once the app is built (modules, schemas, models) lives as long as the
    process: the cyclic collector stops scanning it (`gc.freeze`). And a young-generation
    collection every 10,000 allocations instead of 700: the intake allocates hundreds of
    objects per flow, and under load collections took ~6 % of its CPU (perf), ~1 % after."""
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
    uvicorn.Server(config).run()
