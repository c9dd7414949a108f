"""Suivi des flux on the real broker: `chorale flows tail` follows one flow from IN_RECU to its
terminal status, the service's aggregates count it, `chorale flows stats` and `show` print."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from chorale_cli.flows_cmd import tail
from chorale_cli.main import app as cli
from chorale_contracts import Topic, topic_name
from chorale_contracts.events.flows import FlowError, FlowStatusChanged
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.servers import serve_in_process

pytestmark = pytest.mark.integration

PARTNER = "44306184100047"
OTHER = "73282932000074"
PATH = ["IN_RECU", "IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT", "IN_REJETE"]


def status(numero: str, statut: str, previous: str | None, partner: str = PARTNER,
           errors: list[FlowError] | None = None) -> FlowStatusChanged:
    return FlowStatusChanged(
        numeroFluxDepot=numero, statut=statut, statutPrecedent=previous, canal="EDI",
        technicalAccountId="ta-1", structurePartenaire=partner, nomFichier=f"{numero}.xml",
        dateDepot=datetime(2026, 11, 26, 8, 0, tzinfo=UTC), erreurs=errors or [],
    )


async def test_tail_follows_one_flow_to_its_terminal_status(
    publish, infra, namespace, notifications, tokens
):
    lines: list[str] = []
    stop = asyncio.Event()
    async with notifications() as base:
        follower = asyncio.create_task(tail(
            infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix),
            lines.append, partner=PARTNER, from_beginning=True, color=False, stop=stop,
        ))
        try:
            await eventually(lambda: lines, timeout=30)  # the header: the consumer is up
            await publish(status("FLX-OTHER-1", "IN_RECU", None, partner=OTHER), "FLX-OTHER-1")
            previous = None
            for step in PATH:
                errors = [FlowError(code="XSD_INVALID", message="Élément inattendu",
                                    level="FLUX", ligne=3),
                          FlowError(code="RECIPIENT_UNKNOWN", message="Destinataire inconnu",
                                    level="FACTURE")] if step == "IN_REJETE" else None
                await publish(status("FLX-42", step, previous, errors=errors), "FLX-42")
                # live: each change shows up before the next one is published
                await eventually(lambda s=step: any(s in line for line in lines), timeout=30)
                previous = step
        finally:
            stop.set()
            await asyncio.wait_for(follower, 10)

        header, *rows = lines
        assert header.split()[:3] == ["HEURE", "(UTC)", "NUMÉRO"]
        assert [r.split()[5] for r in rows] == PATH  # the time is two words: date and hour
        assert all(r.split()[2:4] == ["FLX-42", PARTNER] for r in rows)
        assert rows[-1].endswith("XSD_INVALID, RECIPIENT_UNKNOWN")
        assert not any("FLX-OTHER-1" in r for r in rows)

        # the aggregates counted both partners' changes, with the rejection codes
        async with httpx.AsyncClient(base_url=base, headers=tokens.operator()) as client:

            async def counted() -> dict:
                body = (await client.get("/v1/suivi-flux/stats")).json()
                return body if sum(p["total"] for p in body["series"]) == 5 else {}

            stats = await eventually(counted, timeout=30)
            totals = {p["partenaire"]: p["parStatut"] for p in stats["parPartenaire"]}
            assert totals[PARTNER]["IN_REJETE"] == 1 and totals[PARTNER]["IN_RECU"] == 1
            assert totals[OTHER]["IN_RECU"] == 1
            assert {c["code"]: c["nombre"] for c in stats["codesRejet"]} == {
                "XSD_INVALID": 1, "RECIPIENT_UNKNOWN": 1}
            assert len(stats["series"]) in (24, 25)  # zero-filled hours of the last day
            daily = (await client.get("/v1/suivi-flux/stats", params={
                "granularite": "jour", "partenaire": OTHER})).json()
            assert sum(p["total"] for p in daily["series"]) == 1
            forbidden = await client.get("/v1/suivi-flux/stats", headers=tokens.headers("u"))
            assert forbidden.status_code == 403

        token = tokens.token("operator-1", roles=("operator",))
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["flows", "stats", "--url", base, "--token", token])
        assert result.exit_code == 0, result.output
        assert "Codes de rejet : RECIPIENT_UNKNOWN ×1, XSD_INVALID ×1" in result.output
        assert PARTNER in result.output


async def test_show_prints_the_compte_rendu_of_a_flow():
    intake = FastAPI()  # stands in for the invoice-intake service's GET /v1/flows/{numero}

    @intake.get("/v1/flows/{numero}")
    async def flow(numero: str) -> dict:
        return {
            "numeroFluxDepot": numero, "statut": "IN_REJETE", "nomFichier": "f.xml",
            "dateDepot": "2026-11-26T08:00:00Z", "dateMiseAJour": "2026-11-26T08:00:03Z",
            "listeErreurTechnique": [{"code": "XSD_INVALID", "message": "Élément inattendu",
                                      "ligne": 3}],
            "listeErreurDP": [],
        }

    async with serve_in_process(intake) as base:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["flows", "show", "FLX-42", "--url", base])
    assert result.exit_code == 0, result.output
    assert "statut           IN_REJETE" in result.output
    assert "  - XSD_INVALID: Élément inattendu (ligne=3)" in result.output
    assert "Erreurs de dépôt (listeErreurDP) (0)" in result.output
