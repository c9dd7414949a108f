"""The portal's channel (`POST /v1/flows/portail`), on the real broker and database: a
supplier's user holding « Factures émises » in modification deposits a file (raw or multipart)
with their own token; it goes through the same pipeline and rules as an API flow, channel
PORTAIL, and they read its CR. Refused to whoever lacks the habilitation (consultation only,
another structure, technical accounts, operators); hostile files are recorded and rejected with
their rule code, as on every channel; the size limits are the API's."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chorale_contracts import Envelope, Topic, new_envelope, topic_name
from chorale_contracts.events.flows import FlowStatusChanged
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_intake.bootstrap import build_app
from chorale_intake.settings import IntakeSettings
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process, wait_ready
from chorale_runtime.testing.tokens import TokenFactory
from chorale_testkit import hostile_xml as hostile

from .test_intake_http import wait_status

pytestmark = pytest.mark.integration

PORTAL = "/v1/flows/portail"


def _grant(user: str, structure: str, application: str, mode: str):
    payload = HabilitationGranted(grantId=str(uuid.uuid4()), userId=user, structure=structure,
                                  application=application, mode=mode)
    return new_envelope(payload, key=user, producer="test")


async def test_a_person_with_factures_emises_deposits_in_the_portal_and_reads_the_cr(
        infra, namespace, kit, tmp_path):
    tokens = TokenFactory()
    supplier_user = tokens.headers("fournisseur")
    settings = settings_for(IntakeSettings, infra, namespace, edi_root=tmp_path / "edi",
                            archive_dir=tmp_path / "archive", max_bytes=40_000,
                            api_max_request_bytes=80_000)
    app = build_app(settings, verifier=tokens.verifier())
    async with serve_in_process(app) as base, httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace, accounts=[])
        await kit.publish(infra, namespace, kit.Topic.HABILITATIONS, [
            _grant("fournisseur", kit.SUPPLIER, "FACTURES_EMISES", "MODIFICATION"),
            _grant("lecteur", kit.SUPPLIER, "FACTURES_EMISES", "CONSULTATION"),
            _grant("autre", kit.OTHER_SUPPLIER, "FACTURES_EMISES", "MODIFICATION"),
        ])
        await wait_ready(base)
        params = {"structurePartenaire": kit.SUPPLIER}

        async def deposited() -> httpx.Response | None:
            # The grant reaches the intake's read model through chorale.habilitations.v1.
            r = await client.post(f"{base}{PORTAL}", params={**params, "nomFichier": "f1.xml"},
                                  content=kit.invoice(kit.CII), headers=supplier_user)
            return r if r.status_code == 202 else None

        first = await eventually(deposited, timeout=30)
        receipt = first.json()
        assert receipt["statut"] == "IN_EN_ATTENTE_TRAITEMENT"
        integrated = await wait_status(client, base, receipt["numeroFluxDepot"], supplier_user)
        assert integrated["statut"] == "IN_INTEGRE", integrated
        assert integrated["canal"] == "PORTAIL" and integrated["deposant"] == "fournisseur"
        assert integrated["technicalAccountId"] == ""
        assert integrated["nomFichier"] == "f1.xml"
        assert integrated["factures"][0]["statut"] == "MISE_A_DISPOSITION"

        # a file from the browser (multipart): same rules, a missing service code rejects it
        multipart = await client.post(
            f"{base}{PORTAL}", params=params, headers=supplier_user,
            files={"fichier": ("sans-service.xml", kit.invoice(service_code=None),
                               "application/xml")})
        assert multipart.status_code == 202, multipart.text
        rejected = await wait_status(client, base, multipart.json()["numeroFluxDepot"],
                                     supplier_user)
        assert rejected["statut"] == "IN_REJETE" and rejected["canal"] == "PORTAIL"
        assert [e["code"] for e in rejected["listeErreurDP"]] == ["SERVICE_CODE_REQUIRED"]
        assert rejected["nomFichier"] == "sans-service.xml"

        # hostile files are recorded and rejected with their code, never parsed unsafely
        for name, data, code in (("bombe.xml", hostile.BILLION_LAUGHS, "XML_FORBIDDEN_DTD"),
                                 ("vide.xml", b"", "EMPTY_FILE"),
                                 ("pas-du-xml.xml", b"PK\x03\x04zip", "XML_MALFORMED")):
            r = await client.post(f"{base}{PORTAL}", params={**params, "nomFichier": name},
                                  content=data, headers=supplier_user)
            assert r.status_code == 202, r.text
            cr = await wait_status(client, base, r.json()["numeroFluxDepot"], supplier_user)
            assert [e["code"] for e in cr["listeErreurTechnique"]] == [code], (name, cr)

        # the size limits are the API's
        data = kit.invoice(lines=70)
        assert 40_000 < len(data) < 80_000
        big = await client.post(f"{base}{PORTAL}", params=params, headers=supplier_user,
                                content=data)
        cr = await wait_status(client, base, big.json()["numeroFluxDepot"], supplier_user)
        assert [e["code"] for e in cr["listeErreurTechnique"]] == ["FILE_TOO_LARGE"]
        huge = await client.post(f"{base}{PORTAL}", params=params, headers=supplier_user,
                                 content=b"<a>" + b"x" * 90_000 + b"</a>")
        assert (huge.status_code, huge.json()["code"]) == (413, "FLOW_TOO_LARGE")

        # who may not deposit for the supplier
        for headers, reason in ((tokens.headers("lecteur"), "NO_GRANT"),
                                (tokens.headers("autre"), None),
                                (tokens.headers("inconnu"), None),
                                (tokens.operator(), "OPERATOR_NOT_SUPPLIER"),
                                (tokens.technical("ta-1", kit.SUPPLIER), "TECHNICAL_ACCOUNT")):
            refused = await client.post(f"{base}{PORTAL}", params=params, headers=headers,
                                        content=kit.invoice(kit.CII))
            assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN"), headers
            if reason == "OPERATOR_NOT_SUPPLIER" or reason == "TECHNICAL_ACCOUNT":
                assert refused.json()["details"]["raison"] == reason
        missing = await client.post(f"{base}{PORTAL}", headers=supplier_user,
                                    content=kit.invoice(kit.CII))
        assert missing.status_code in (400, 422)
        assert (await client.post(f"{base}{PORTAL}", params=params,
                                  content=b"<x/>")).status_code == 401

        # the CR: the depositor and « Factures émises » readers; not another supplier's users
        numero = receipt["numeroFluxDepot"]
        assert (await client.get(f"{base}/v1/flows/{numero}",
                                 headers=tokens.headers("lecteur"))).status_code == 200
        assert (await client.get(f"{base}/v1/flows/{numero}",
                                 headers=tokens.headers("autre"))).status_code == 403
        listed = await client.get(f"{base}/v1/flows", headers=tokens.operator(),
                                  params={"canal": "PORTAIL"})
        assert listed.json()["total"] == 6
        assert {f["deposant"] for f in listed.json()["flux"]} == {"fournisseur"}

        # the recipient as the portal's form shows it, from the intake's directory
        found = await client.get(f"{base}{PORTAL}/destinataires/{kit.BUYER}",
                                 headers=supplier_user)
        assert found.status_code == 200, found.text
        assert found.json()["raisonSociale"] == f"Structure {kit.BUYER}"
        assert [s["codeService"] for s in found.json()["services"]] == ["COMPTA"]
        assert found.json()["parametres"]["codeServiceDoitEtreRenseigne"] is True
        private = await client.get(f"{base}{PORTAL}/destinataires/{kit.SUPPLIER}",
                                   headers=supplier_user)
        assert (private.status_code, private.json()["code"]) == (404, "RECIPIENT_NOT_FOUND")

    # the flow's events say PORTAIL, as every consumer of chorale.flows.v1 sees it
    await _events_say_portail(infra, namespace, numero)


async def _events_say_portail(infra, namespace, numero: str) -> None:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic_name(Topic.FLOWS, namespace.topic_prefix),
                                bootstrap_servers=infra.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        statuses: list[str] = []
        while "IN_INTEGRE" not in statuses:
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, statuses
            for records in batch.values():
                for record in records:
                    env = Envelope.parse_incoming(record.value)
                    if env.key == numero:
                        payload = FlowStatusChanged.model_validate(env.payload)
                        assert payload.canal == "PORTAIL"
                        statuses.append(payload.statut.value)
    finally:
        await consumer.stop()
