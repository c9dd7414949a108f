"""Through the HTTP API, on the real broker and database: deposit (raw body and multipart),
detailed CR, who sees what, operators' list, revoked accounts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from chorale_intake.bootstrap import build_app
from chorale_runtime.testing.servers import serve_in_process, wait_ready
from chorale_runtime.testing.tokens import TokenFactory

pytestmark = pytest.mark.integration


async def wait_status(client: httpx.AsyncClient, base: str, numero: str, headers: dict[str, str],
                      timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"{base}/v1/flows/{numero}", headers=headers)
        assert response.status_code == 200, response.text
        cr = response.json()
        if cr["statut"] in ("IN_INTEGRE", "IN_REJETE", "IN_INCIDENTE"):
            return cr
        assert time.monotonic() < deadline, cr
        await asyncio.sleep(0.05)


async def test_deposit_read_and_list_over_http(infra, namespace, intake_settings, kit):
    tokens = TokenFactory()
    partner = tokens.technical("ta-1", kit.SUPPLIER)
    other_partner = tokens.technical("ta-9", kit.OTHER_SUPPLIER)
    operator = tokens.operator()
    app = build_app(intake_settings, verifier=tokens.verifier())
    async with serve_in_process(app) as base, httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace, accounts=["ta-1"])
        await kit.publish(infra, namespace, kit.Topic.IDENTITY,
                          [kit.account_created("ta-9", kit.OTHER_SUPPLIER)])
        await wait_ready(base)
        raw = await client.post(f"{base}/v1/flows", content=kit.invoice(),
                                params={"nomFichier": "facture-1.xml"},
                                headers={**partner, "X-Correlation-ID": "corr-http-1"})
        assert raw.status_code == 202, raw.text
        receipt = raw.json()
        assert receipt["statut"] == "IN_EN_ATTENTE_TRAITEMENT"
        assert len(receipt["empreinteSha256"]) == 64

        multipart = await client.post(
            f"{base}/v1/flows", headers=partner,
            files={"file": ("sans-service.xml", kit.invoice(kit.CII, service_code=None),
                            "application/xml")},
            data={"syntaxeFlux": kit.CII},
        )
        assert multipart.status_code == 202, multipart.text
        mismatch = await client.post(f"{base}/v1/flows", content=kit.invoice(),
                                     params={"syntaxeFlux": kit.CII}, headers=partner)
        assert mismatch.status_code == 202

        ok = await wait_status(client, base, receipt["numeroFluxDepot"], partner)
        assert ok["statut"] == "IN_INTEGRE" and ok["nomFichier"] == "facture-1.xml"
        assert [s["statut"] for s in ok["historique"]] == [
            "IN_RECU", "IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT", "IN_INTEGRE"]
        assert ok["factures"][0]["destinataire"] == kit.BUYER
        assert ok["factures"][0]["statut"] == "MISE_A_DISPOSITION"
        rejected = await wait_status(client, base, multipart.json()["numeroFluxDepot"], partner)
        assert rejected["statut"] == "IN_REJETE"
        [error] = rejected["listeErreurDP"]
        assert error["code"] == "SERVICE_CODE_REQUIRED"
        assert error["identifiantFournisseur"] == kit.SUPPLIER
        assert error["identifiantDestinataire"] == kit.BUYER
        assert error["chemin"].endswith("ram:BuyerReference")
        assert "obligatoire" in error["message"]
        wrong = await wait_status(client, base, mismatch.json()["numeroFluxDepot"], partner)
        assert [e["code"] for e in wrong["listeErreurTechnique"]] == ["SYNTAX_MISMATCH"]

        # who sees what
        numero = receipt["numeroFluxDepot"]
        hidden = await client.get(f"{base}/v1/flows/{numero}", headers=other_partner)
        assert hidden.status_code == 404 and hidden.json()["code"] == "FLOW_NOT_FOUND"
        seen = await client.get(f"{base}/v1/flows/{numero}", headers=operator)
        assert seen.status_code == 200
        anonymous = await client.get(f"{base}/v1/flows/{numero}")
        assert anonymous.status_code == 401
        user = await client.get(f"{base}/v1/flows/{numero}", headers=tokens.headers("u-1"))
        assert user.status_code == 403
        by_user = await client.post(f"{base}/v1/flows", content=b"<x/>",
                                    headers=tokens.headers("u-1"))
        assert by_user.status_code == 403

        # operators' list: filters and paging
        listed = await client.get(f"{base}/v1/flows", headers=operator,
                                  params={"statut": "IN_REJETE", "taillePage": 1})
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["total"] == 2 and len(body["flux"]) == 1
        assert body["flux"][0]["statut"] == "IN_REJETE"
        page2 = await client.get(f"{base}/v1/flows", headers=operator,
                                 params={"statut": "IN_REJETE", "taillePage": 1, "page": 2})
        assert page2.json()["flux"][0]["numeroFluxDepot"] != body["flux"][0]["numeroFluxDepot"]
        everything = await client.get(f"{base}/v1/flows", headers=operator,
                                      params={"structurePartenaire": kit.SUPPLIER,
                                              "depuis": ok["dateDepot"]})
        assert everything.json()["total"] == 3
        none = await client.get(f"{base}/v1/flows", headers=operator,
                                params={"structurePartenaire": kit.OTHER_SUPPLIER})
        assert none.json()["total"] == 0
        own = await client.get(f"{base}/v1/flows", headers=other_partner)
        assert own.json()["total"] == 0  # a partner lists only its own structure's flows

        # a rerun is for incidents only
        refused = await client.post(f"{base}/v1/flows/{numero}/rerun", headers=operator)
        assert refused.status_code == 409 and refused.json()["code"] == "FLOW_NOT_INCIDENTE"
        not_operator = await client.post(f"{base}/v1/flows/{numero}/rerun", headers=partner)
        assert not_operator.status_code == 403

        # revocation reaches the intake through chorale.identity.v1
        await kit.publish(infra, namespace, kit.Topic.IDENTITY, [kit.account_revoked("ta-1")])
        deadline = time.monotonic() + 20
        while True:
            late = await client.post(f"{base}/v1/flows", content=kit.invoice(), headers=partner)
            if late.status_code == 403:
                break
            assert late.status_code == 202 and time.monotonic() < deadline
            await asyncio.sleep(0.1)
        assert late.json()["code"] == "TECHNICAL_ACCOUNT_REVOKED"


async def test_a_deposit_over_the_limit_is_refused_or_rejected(infra, namespace, kit, tmp_path):
    from chorale_intake.settings import IntakeSettings
    from chorale_runtime.testing.plugin import settings_for

    tokens = TokenFactory()
    partner = tokens.technical("ta-1", kit.SUPPLIER)
    settings = settings_for(IntakeSettings, infra, namespace, edi_root=tmp_path / "edi",
                            archive_dir=tmp_path / "archive", max_bytes=4000,
                            api_max_request_bytes=8000)
    async with serve_in_process(build_app(settings, verifier=tokens.verifier())) as base, \
            httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace)
        await wait_ready(base)
        big = kit.invoice(lines=7)
        assert 4000 < len(big) < 8000
        taken = await client.post(f"{base}/v1/flows", content=big, headers=partner)
        assert taken.status_code == 202
        cr = await wait_status(client, base, taken.json()["numeroFluxDepot"], partner)
        assert [e["code"] for e in cr["listeErreurTechnique"]] == ["FILE_TOO_LARGE"]
        huge = await client.post(f"{base}/v1/flows", content=b"<a>" + b"x" * 9000 + b"</a>",
                                 headers=partner)
        assert huge.status_code == 413 and huge.json()["code"] == "FLOW_TOO_LARGE"
        assert not list((tmp_path / "archive").rglob("*.part"))


class BodyCounter:
    """ASGI wrapper counting the request body bytes the app actually pulled."""

    def __init__(self, app):
        self.app = app
        self.pulled = 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                self.pulled += len(message.get("body", b""))
            return message

        await self.app(scope, counted if scope["type"] == "http" else receive, send)


async def test_a_multipart_deposit_is_counted_as_it_streams_whatever_its_length_says(
        infra, namespace, kit, tmp_path):
    """A multipart body far over the limit, chunked (no Content-Length) or under a lying
    Content-Length: refused 413 once the limit is passed, without the service reading (or
    spooling) the rest. And a small one without Content-Length is taken, its fields after the
    file included."""
    from chorale_intake.settings import IntakeSettings
    from chorale_runtime.testing.plugin import settings_for

    tokens = TokenFactory()
    partner = tokens.technical("ta-1", kit.SUPPLIER)
    settings = settings_for(IntakeSettings, infra, namespace, edi_root=tmp_path / "edi",
                            archive_dir=tmp_path / "archive", max_bytes=100_000,
                            api_max_request_bytes=200_000)
    counter = BodyCounter(build_app(settings, verifier=tokens.verifier()))
    boundary = "chorale-boundary"
    headers = {**partner, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    bound = 200_000 + 64 * 1024 + 65_536  # the limit, the form's allowance, one chunk
    sent = 160 * 65_536  # 10 MiB, fifty times the limit

    def form(data: bytes, name: str) -> tuple[bytes, bytes]:
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/xml\r\n\r\n").encode()
        tail = (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"syntaxeFlux\""
                f"\r\n\r\n{kit.UBL}\r\n--{boundary}--\r\n").encode()
        return head + data, tail

    async def chunked(head: bytes, filler: int, tail: bytes):
        yield head
        for _ in range(filler):
            yield b"x" * 65_536
        yield tail

    async with serve_in_process(counter) as base, httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace)
        await wait_ready(base)
        head, tail = form(b"<a>", "gros.xml")
        counter.pulled = 0
        huge = await client.post(f"{base}/v1/flows", headers=headers,
                                 content=chunked(head, 160, tail))
        assert huge.status_code == 413 and huge.json()["code"] == "FLOW_TOO_LARGE", huge.text
        assert counter.pulled <= bound < sent

        # A Content-Length that lies (1,000 declared, 10 MiB sent), straight to the ASGI app
        # (servers differ in how they frame such a request): counted all the same.
        counter.pulled = 0
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=counter),
                                     base_url="http://intake") as direct:
            lying = await direct.post("/v1/flows", headers={**headers, "Content-Length": "1000"},
                                      content=chunked(head, 160, tail))
        assert lying.status_code == 413 and lying.json()["code"] == "FLOW_TOO_LARGE"
        assert counter.pulled <= bound < sent
        assert not [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]

        head, tail = form(kit.invoice(), "petit.xml")
        small = await client.post(f"{base}/v1/flows", headers=headers,
                                  content=chunked(head, 0, tail))
        assert small.status_code == 202, small.text
        cr = await wait_status(client, base, small.json()["numeroFluxDepot"], partner)
        assert (cr["statut"], cr["nomFichier"], cr["syntaxeFluxDeclaree"]) == (
            "IN_INTEGRE", "petit.xml", kit.UBL)
