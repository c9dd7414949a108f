"""The FastAPI side every service shares: error format, correlation ids, request metrics,
`/health`, `/ready` and `/metrics`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from chorale_runtime import metrics
from chorale_runtime.errors import CodedError, error_body, status_for
from chorale_runtime.logging import bind_contextvars, clear_contextvars, get_logger

log = get_logger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


def correlation_id_of(request: Request) -> str:
    return getattr(request.state, "correlation_id", None) or str(uuid.uuid4())


def install_middleware(
    app: FastAPI, service: str, status_overrides: dict[str, int] | None = None
) -> None:
    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        clear_contextvars()
        incoming = request.headers.get(CORRELATION_HEADER, "")
        correlation_id = incoming if 0 < len(incoming) <= 128 else str(uuid.uuid4())
        request.state.correlation_id = correlation_id
        bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await call_next(request)
            except Exception as exc:  # domain errors of any service, then the unexpected
                response = render_exception(exc, status_overrides)
            status = response.status_code
            response.headers[CORRELATION_HEADER] = correlation_id
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            metrics.HTTP_REQUESTS.labels(service, request.method, path, str(status)).inc()
            metrics.HTTP_LATENCY.labels(service, request.method, path).observe(elapsed)
            if path not in ("/health", "/ready", "/metrics"):
                log.info("http_request", method=request.method, route=path, status=status,
                         duration_ms=round(elapsed * 1000, 2))
            clear_contextvars()


def render_exception(exc: Exception, status_overrides: dict[str, int] | None) -> JSONResponse:
    if isinstance(exc, CodedError) and isinstance(getattr(exc, "code", None), str):
        details = getattr(exc, "details", None) or {}
        return JSONResponse(
            error_body(exc.code, exc.message, details),
            status_code=status_for(exc, status_overrides),
            headers=getattr(exc, "headers", None),  # e.g. Retry-After of a 429 or 503
        )
    log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
    return JSONResponse(
        error_body("INTERNAL_ERROR", "Erreur interne ; l'incident est journalisé."),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    async def invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {
                "champ": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "erreur": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body("VALIDATION_FAILED", "La requête contient des données invalides.",
                       {"champs": fields}),
            status_code=422,
        )

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def install_probes(app: FastAPI, service: str, checks: dict[str, ReadinessCheck]) -> None:
    @app.get("/health", tags=["operations"], summary="Le processus est vivant")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/ready", tags=["operations"], summary="Base, broker et modèles de lecture prêts")
    async def ready() -> JSONResponse:
        results: dict[str, Any] = {}
        ok = True
        for name, check in checks.items():
            try:
                passed, detail = await check()
            except Exception as exc:
                passed, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": passed, "detail": detail}
            ok = ok and passed
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "service": service, "checks": results},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Métriques Prometheus")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE_LATEST)
