"""The FastAPI side every service shares: error format, correlation ids, request metrics, the
probes, and the operations listener.

The public API answers `/health` and a minimal `/ready` (status only: what `make up`, a load
balancer or an orchestrator need). `/metrics` and the detailed `/ready` (each check with a
stable code) are on a second, small app served on an address operators choose
(`CHORALE_ADMIN_HOST`, default loopback; `CHORALE_ADMIN_PORT`): metric labels and readiness
details are for operators, not for everyone who can reach the API. A failed check answers a
code (`DATABASE_UNREACHABLE`, `BROKER_UNREACHABLE`, `READ_MODEL_CATCHING_UP`,
`<CHECK>_NOT_READY`); the exception behind it is logged (`readiness_check_failed`), never
returned."""

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
READINESS_CODES = {
    "database": "DATABASE_UNREACHABLE",
    "broker": "BROKER_UNREACHABLE",
    "read_models": "READ_MODEL_CATCHING_UP",
}


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


def readiness_code(name: str) -> str:
    return READINESS_CODES.get(name, f"{name.upper()}_NOT_READY")


async def check_readiness(checks: dict[str, ReadinessCheck]) -> tuple[bool, dict[str, Any]]:
    """Run every check: whether all passed, and per check `ok`, `code` and (when it failed)
    the check's own `detail` (what it waits for; never an exception's text)."""
    results: dict[str, Any] = {}
    ok = True
    for name, check in checks.items():
        detail: str | None
        try:
            passed, detail = await check()
        except Exception as exc:
            passed, detail = False, None
            log.warning("readiness_check_failed", check=name, code=readiness_code(name),
                        error_type=type(exc).__name__, error=str(exc)[:500])
        result: dict[str, Any] = {"ok": passed, "code": "OK" if passed else readiness_code(name)}
        if not passed and detail:
            result["detail"] = detail
        results[name] = result
        ok = ok and passed
    return ok, results


def install_probes(app: FastAPI, service: str, checks: dict[str, ReadinessCheck]) -> None:
    """The public API's probes: `/health` and `/ready` with the status only."""

    @app.get("/health", tags=["operations"], summary="Le processus est vivant")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/ready", tags=["operations"], summary="Base, broker et modèles de lecture prêts")
    async def ready() -> JSONResponse:
        ok, _ = await check_readiness(checks)
        return JSONResponse({"status": "ready" if ok else "not_ready", "service": service},
                            status_code=200 if ok else 503)


def create_admin_app(service: str, checks: dict[str, ReadinessCheck]) -> FastAPI:
    """The operations listener: `/metrics`, `/ready` with each check's code, `/health`."""
    admin = FastAPI(title=f"Chorale — {service} (exploitation)", docs_url=None, redoc_url=None,
                    openapi_url=None)

    @admin.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @admin.get("/ready")
    async def ready() -> JSONResponse:
        ok, results = await check_readiness(checks)
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "service": service, "checks": results},
            status_code=200 if ok else 503,
        )

    @admin.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE_LATEST)

    return admin
