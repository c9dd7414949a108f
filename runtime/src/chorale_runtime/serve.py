"""Runs a service's FastAPI app under uvicorn: SIGTERM stops taking requests, drains, exits."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from chorale_runtime.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
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
