"""Probes: the public API answers /health and a /ready with the status only; /metrics and each
check's code are on the operations app; an exception's text is logged, never returned."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from structlog.testing import capture_logs

from chorale_runtime.http import create_admin_app, install_probes
from chorale_runtime.settings import ServiceSettings

SECRET_ERROR = "connection refused by mongodb://admin:hunter2@10.0.0.7:27017"


async def _db_down() -> tuple[bool, str]:
    raise ConnectionError(SECRET_ERROR)


async def _catching_up() -> tuple[bool, str]:
    return False, "identity: 12 messages"


async def _broker_ok() -> tuple[bool, str]:
    return True, "ok"


CHECKS = {"database": _db_down, "broker": _broker_ok, "read_models": _catching_up}


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_the_public_api_tells_the_status_only_and_has_no_metrics():
    app = FastAPI()
    install_probes(app, "svc", CHECKS)
    async with _client(app) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "not_ready", "service": "svc"}
        assert (await client.get("/health")).json() == {"status": "ok", "service": "svc"}
        assert (await client.get("/metrics")).status_code == 404


async def test_the_operations_app_answers_codes_and_logs_the_details():
    async with _client(create_admin_app("svc", CHECKS)) as client:
        with capture_logs() as logs:
            ready = await client.get("/ready")
        metrics = await client.get("/metrics")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "database": {"ok": False, "code": "DATABASE_UNREACHABLE"},
        "broker": {"ok": True, "code": "OK"},
        "read_models": {"ok": False, "code": "READ_MODEL_CATCHING_UP",
                        "detail": "identity: 12 messages"},
    }
    assert "hunter2" not in ready.text and "refused" not in ready.text
    [logged] = [e for e in logs if e["event"] == "readiness_check_failed"]
    assert (logged["check"], logged["code"], logged["error_type"]) == (
        "database", "DATABASE_UNREACHABLE", "ConnectionError")
    assert metrics.status_code == 200 and "chorale_http_requests_total" in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")


async def test_other_checks_get_a_code_of_their_name():
    async def starting() -> tuple[bool, str]:
        return False, "en attente : annuaire"

    async with _client(create_admin_app("svc", {"intake": starting})) as client:
        body = (await client.get("/ready")).json()
    assert body["checks"]["intake"]["code"] == "INTAKE_NOT_READY"


def test_the_operations_port_defaults_to_the_api_port_plus_100_and_0_disables_it():
    assert ServiceSettings(service_name="s", http_port=8001).operations_port == 8101
    assert ServiceSettings(service_name="s", http_port=8001, admin_port=9100
                           ).operations_port == 9100
    assert ServiceSettings(service_name="s", admin_port=0).operations_port is None
    assert ServiceSettings(service_name="s").admin_host == "127.0.0.1"
