"""Technical failures: retried with back-off, then IN_INCIDENTE visible to operators, re-run by
an operator to its real outcome, on the real broker and database."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from chorale_contracts import Topic, topic_name
from chorale_intake.adapters.analysis_pool import AnalysisPool, Limits, PoolBroken
from chorale_intake.bootstrap import build_app
from chorale_runtime.testing.kafka_probe import collect
from chorale_runtime.testing.servers import operations_url, serve_in_process, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

pytestmark = pytest.mark.integration


class FlakyPool(AnalysisPool):
    """Validation that fails (a dying worker) while `broken` is set."""

    def __init__(self) -> None:
        super().__init__(0, Limits(10_000_000, 256, 20))
        self.broken = True
        self.calls = 0

    async def analyse(self, jobs):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.broken:
            raise PoolBroken("worker killed by the test")
        return await super().analyse(jobs)


async def test_a_flow_that_keeps_failing_ends_incidente_then_reruns(
    infra, namespace, intake_settings, kit
):
    tokens = TokenFactory()
    operator = tokens.operator()
    pool = FlakyPool()
    settings = intake_settings.model_copy(update={"retry_max_attempts": 3})
    app = build_app(settings, analysis_pool=pool, verifier=tokens.verifier())
    root = settings.edi_root
    async with serve_in_process(app) as base, httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace)
        await wait_ready(base)
        await kit.wait_folder(root, "ta-1")
        kit.drop(root, "ta-1", "malchance.xml", kit.invoice())
        cr = (await kit.wait_terminal(root, "ta-1", ["malchance.xml"]))["malchance.xml"]
        assert cr["statut"] == "IN_INCIDENTE" and pool.calls == 3
        [error] = cr["listeErreurTechnique"]
        assert error["code"] == "INCIDENT_TECHNIQUE" and "relancer" in error["message"]
        numero = cr["numeroFluxDepot"]

        listed = await client.get(f"{base}/v1/flows", headers=operator,
                                  params={"statut": "IN_INCIDENTE"})
        assert [f["numeroFluxDepot"] for f in listed.json()["flux"]] == [numero]

        pool.broken = False
        rerun = await client.post(f"{base}/v1/flows/{numero}/rerun", headers=operator)
        assert rerun.status_code == 202, rerun.text
        assert rerun.json()["tentative"] == 2
        deadline = time.monotonic() + 30
        while (cr := (await client.get(f"{base}/v1/flows/{numero}", headers=operator)).json())[
            "statut"
        ] != "IN_INTEGRE":
            assert time.monotonic() < deadline, cr
            await asyncio.sleep(0.05)
        assert cr["tentative"] == 2 and cr["listeErreurTechnique"] == []
        assert [s["statut"] for s in cr["historique"]] == [
            "IN_RECU", "IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT", "IN_INCIDENTE",
            "IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT", "IN_INTEGRE"]
        again = await client.post(f"{base}/v1/flows/{numero}/rerun", headers=operator)
        assert again.status_code == 409
        crs = await kit.wait_terminal(root, "ta-1", ["malchance.xml"])
        assert crs["malchance.xml"]["statut"] == "IN_INTEGRE"  # the CR file follows

        events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix),
            until=lambda evs: any(e.payload["statut"] == "IN_INTEGRE" for e in evs),
        )
        steps = [(e.payload["statutPrecedent"], e.payload["statut"], e.payload["tentative"])
                 for e in events]
        assert steps == [
            (None, "IN_RECU", 1),
            ("IN_RECU", "IN_EN_ATTENTE_TRAITEMENT", 1),
            ("IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT", 1),
            ("IN_EN_COURS_TRAITEMENT", "IN_INCIDENTE", 1),
            ("IN_INCIDENTE", "IN_EN_ATTENTE_TRAITEMENT", 2),
            ("IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT", 2),
            ("IN_EN_COURS_TRAITEMENT", "IN_INTEGRE", 2),
        ]
        metrics = (await client.get(f"{operations_url(base)}/metrics")).text
        assert 'chorale_intake_technical_failures_total{service="invoice-intake",stage="analyse"}' \
            in metrics
        assert 'status="IN_INCIDENTE"' in metrics
