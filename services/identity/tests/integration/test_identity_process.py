"""``python -m chorale_identity`` as operators run it: ready only with its signing key, the
key kept across restarts (same database), sign-in metrics, graceful stop on SIGTERM."""

from __future__ import annotations

import httpx
import pytest

from chorale_runtime.testing.plugin import service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready

pytestmark = pytest.mark.integration

FAST_ENV = {
    "CHORALE_ARGON2_MEMORY_KIB": "8",
    "CHORALE_ARGON2_TIME_COST": "1",
    "CHORALE_ARGON2_INSECURE_FOR_TESTS": "true",
}


async def test_serves_keeps_its_key_across_restarts_and_stops_gracefully(
    infra, namespace, tmp_path
):
    env = service_env(infra, namespace, "identity", **FAST_ENV)
    kids = []
    for run in range(2):
        process = ServiceProcess(
            "chorale_identity", env, free_port(), tmp_path / f"identity-{run}.log"
        ).start()
        try:
            ready = await wait_ready(process.base_url, timeout=90)
            assert ready["checks"]["signing_keys"]["ok"] is True
            async with httpx.AsyncClient(base_url=process.base_url, timeout=30) as http:
                jwks = (await http.get("/.well-known/jwks.json")).json()
                kids.append([k["kid"] for k in jwks["keys"]])
                refused = await http.post(
                    "/v1/auth/login",
                    json={"email": "personne@exemple.fr", "password": "Pas-De-Compte-123"},
                )
                assert refused.status_code == 401
                metrics = (await http.get("/metrics")).text
            assert (
                'chorale_identity_sign_ins_total{outcome="failed",reason="INVALID_CREDENTIALS"'
                in metrics.replace('service="identity",', "")
            )
            assert "UNKNOWN_ACCOUNT" not in metrics and "existing_login" not in metrics
        finally:
            process.terminate()
        assert process.stopped_gracefully(), process.logs()[-3000:]
        assert "Pas-De-Compte-123" not in process.logs()
    assert kids[0] == kids[1] and len(kids[0]) == 1
