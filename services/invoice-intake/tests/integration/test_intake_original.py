"""`GET /v1/invoices/{invoiceId}/original`: the archived bytes, to whom the shared authorizer
allows (Factures reçues on the recipient or its service, Factures émises on the supplier, the
depositing partner, operators); anyone else is told the invoice does not exist."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chorale_contracts import new_envelope
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_intake.bootstrap import build_app
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.servers import serve_in_process, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

from .test_intake_http import wait_status

pytestmark = pytest.mark.integration


def _grant(user: str, structure: str, application: str, code_service: str | None = None):
    payload = HabilitationGranted(grantId=str(uuid.uuid4()), userId=user, structure=structure,
                                  codeService=code_service, application=application,
                                  mode="CONSULTATION")
    return new_envelope(payload, key=user, producer="test")


async def test_the_original_file_is_served_to_whom_the_authorizer_allows(
        infra, namespace, intake_settings, kit):
    tokens = TokenFactory()
    partner = tokens.technical("ta-1", kit.SUPPLIER)
    app = build_app(intake_settings, verifier=tokens.verifier())
    async with serve_in_process(app) as base, httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace, accounts=["ta-1"])
        await kit.publish(infra, namespace, kit.Topic.HABILITATIONS, [
            _grant("agent-service", kit.BUYER, "FACTURES_RECUES", "COMPTA"),
            _grant("agent-autre-service", kit.BUYER, "FACTURES_RECUES", "AUTRE_SERVICE"),
            _grant("fournisseur", kit.SUPPLIER, "FACTURES_EMISES"),
            _grant("suivi-seulement", kit.BUYER, "SUIVI_DES_FLUX"),
        ])
        await wait_ready(base)
        data = kit.invoice()
        deposit = await client.post(f"{base}/v1/flows", content=data, headers=partner)
        assert deposit.status_code == 202, deposit.text
        cr = await wait_status(client, base, deposit.json()["numeroFluxDepot"], partner)
        assert cr["statut"] == "IN_INTEGRE", cr
        url = f"{base}/v1/invoices/{cr['factures'][0]['invoiceId']}/original"

        async def served_to_the_agent() -> bool:
            r = await client.get(url, headers=tokens.headers("agent-service"))
            return r.status_code == 200

        await eventually(served_to_the_agent, timeout=30)
        for headers in (tokens.headers("agent-service"), tokens.headers("fournisseur"),
                        partner, tokens.operator()):
            r = await client.get(url, headers=headers)
            assert r.status_code == 200 and r.content == data
            assert r.headers["content-type"].startswith("application/xml")
        for headers in (tokens.headers("agent-autre-service"), tokens.headers("suivi-seulement"),
                        tokens.headers("inconnu"), tokens.technical("ta-9", kit.OTHER_SUPPLIER)):
            r = await client.get(url, headers=headers)
            assert (r.status_code, r.json()["code"]) == (404, "INVOICE_NOT_FOUND")
        assert (await client.get(url)).status_code == 401
        unknown = await client.get(f"{base}/v1/invoices/FAC-pas-un-numero/original",
                                   headers=tokens.operator())
        assert unknown.status_code == 404
