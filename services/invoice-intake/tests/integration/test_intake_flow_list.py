"""« Suivi des flux » on the real broker and database: the list served from memory is loaded
again at start-up (records written before the list row was stored beside them included),
and says the same as the database query (`CHORALE_FLOW_LIST=database`)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from chorale_intake.bootstrap import build_app
from chorale_runtime.mongo import connect
from chorale_runtime.testing.servers import serve_in_process, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

pytestmark = pytest.mark.integration

QUERIES = ({}, {"statut": "IN_REJETE"}, {"statut": "IN_INTEGRE", "canal": "API"},
           {"canal": "EDI"}, {"taillePage": 1, "page": 2})


async def listing(client: httpx.AsyncClient, base: str, headers: dict) -> list[dict]:
    answers = []
    for params in QUERIES:
        response = await client.get(f"{base}/v1/flows", headers=headers, params=params)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


async def test_the_list_survives_a_restart_and_matches_the_database_query(
        infra, namespace, intake_settings, kit):
    tokens = TokenFactory()
    partner = tokens.technical("ta-1", kit.SUPPLIER)
    operator = tokens.operator()
    async with httpx.AsyncClient(timeout=30) as client:
        app = build_app(intake_settings, verifier=tokens.verifier())
        async with serve_in_process(app) as base:
            await kit.seed(infra, namespace, accounts=["ta-1"])
            await wait_ready(base)
            numbers = []
            for body in (kit.invoice(), kit.invoice(kit.CII, service_code=None), b"",
                         kit.invoice(number="FA-LISTE-2")):
                deposit = await client.post(f"{base}/v1/flows", content=body, headers=partner)
                assert deposit.status_code == 202, deposit.text
                numbers.append(deposit.json()["numeroFluxDepot"])
            deadline = time.monotonic() + 60
            while True:
                seen = await client.get(f"{base}/v1/flows", headers=operator,
                                        params={"statut": ["IN_INTEGRE", "IN_REJETE"]})
                if seen.json()["total"] == len(numbers):
                    break
                assert time.monotonic() < deadline, seen.json()
                await asyncio.sleep(0.1)
            before = await listing(client, base, operator)
        assert [r["numeroFluxDepot"] for r in before[0]["flux"]] == numbers[::-1]
        assert before[1]["total"] == 2 and before[4]["flux"][0]["numeroFluxDepot"] == numbers[2]

        # a record as an earlier version wrote it: no list row beside the packed body
        mongo = connect(intake_settings.mongodb_uri.get_secret_value(), "test")
        try:
            flows = mongo[intake_settings.database_name]["flows"]
            changed = await flows.update_one({"_id": numbers[1]}, {"$unset": {"ligne": ""}})
            assert changed.modified_count == 1
        finally:
            await mongo.close()

        for settings in (intake_settings,
                         intake_settings.model_copy(update={"flow_list": "database"})):
            again = build_app(settings, verifier=tokens.verifier())
            async with serve_in_process(again) as base:
                await wait_ready(base)
                assert await listing(client, base, operator) == before, settings.flow_list
