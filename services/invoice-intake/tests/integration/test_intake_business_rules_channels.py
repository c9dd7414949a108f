"""Business rules and Factur-X through both channels, on the real broker and database: the CR
and the `flow.status_changed` event carry each finding (rule id, flag, location), a Factur-X
PDF deposited by EDI or API is integrated with its profile and archived as received."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re

import httpx
import pikepdf
import pytest

from chorale_contracts import Topic, topic_name
from chorale_intake.bootstrap import build_app
from chorale_runtime.testing.kafka_probe import collect
from chorale_runtime.testing.servers import serve_in_process, wait_ready
from chorale_runtime.testing.tokens import TokenFactory
from chorale_testkit.facturx import make_facturx

pytestmark = pytest.mark.integration

FACTURX = "IN_DP_E2_CII_FACTURX"


def wrong_total(raw: bytes) -> bytes:
    """Total with VAT ≠ total without VAT + VAT: breaks EN 16931 BR-CO-15 (fatal)."""
    return re.sub(rb"(<(?:cbc:TaxInclusiveAmount|ram:GrandTotalAmount)[^>]*>)[0-9.]+<",
                  rb"\g<1>999.99<", raw, count=1)


def without_billing_mode(raw: bytes) -> bytes:
    """No BT-23: breaks the French rule BR-FR-08 (a warning in the default mode)."""
    return raw.replace(b"<cbc:ProfileID>B1</cbc:ProfileID>", b"", 1)


def encrypted(pdf: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        opened.save(out, encryption=pikepdf.Encryption(owner="o", user="u"))
    return out.getvalue()


async def terminal_cr(client: httpx.AsyncClient, url: str, headers: dict[str, str],
                      terminal: set[str]) -> dict:
    while True:
        cr = (await client.get(url, headers=headers)).json()
        if cr["statut"] in terminal:
            return cr
        await asyncio.sleep(0.05)


async def test_findings_and_facturx_through_the_folder(infra, namespace, intake_settings, kit):
    app = build_app(intake_settings)
    root = intake_settings.edi_root
    cii = kit.invoice(kit.CII)
    files = {
        "regles-ubl.xml": wrong_total(kit.invoice(service_code=None)),
        "br-fr-avertissement.xml": without_billing_mode(kit.invoice()),
        "facturx.pdf": make_facturx(cii),
        "facturx-regles.pdf": make_facturx(wrong_total(kit.invoice(kit.CII))),
        "facturx-minimum.pdf": make_facturx(kit.invoice(kit.CII), level="minimum"),
        "facturx-chiffre.pdf": encrypted(make_facturx(kit.invoice(kit.CII))),
    }
    async with serve_in_process(app) as base:
        await kit.seed(infra, namespace)
        await wait_ready(base)
        await kit.wait_folder(root, "ta-1")
        for name, data in files.items():
            kit.drop(root, "ta-1", name, data)
        crs = await kit.wait_terminal(root, "ta-1", files)

        # recipient rules and business rules, all reported at once, rule by rule
        rejected = crs["regles-ubl.xml"]
        assert rejected["statut"] == "IN_REJETE"
        assert rejected["listeErreurDP"][0]["code"] == "SERVICE_CODE_REQUIRED"
        rule = next(e for e in rejected["listeErreurDP"] if e["regle"] == "BR-CO-15")
        assert rule["code"] == "BUSINESS_RULE" and rule["gravite"] == "fatal"
        assert rule["chemin"] == "/Invoice[1]" and "BT-112" in rule["message"]

        warned = crs["br-fr-avertissement.xml"]
        assert warned["statut"] == "IN_INTEGRE" and warned["listeErreurDP"] == []
        assert {(w["regle"], w["gravite"]) for w in warned["listeAvertissementDP"]} == {
            ("BR-FR-08_BT-23", "warning")}

        good = crs["facturx.pdf"]
        assert good["statut"] == "IN_INTEGRE", good
        assert (good["syntaxeFlux"], good["profilFacturX"]) == (FACTURX, "EN 16931")
        assert good["empreinteSha256"] == hashlib.sha256(files["facturx.pdf"]).hexdigest()
        assert files["facturx.pdf"] in {p.read_bytes() for p in
                                        intake_settings.archive_dir.rglob("*") if p.is_file()}
        assert {e["regle"] for e in crs["facturx-regles.pdf"]["listeErreurDP"]} >= {"BR-CO-15"}
        assert kit.codes(crs["facturx-minimum.pdf"]) == {"FACTURX_PROFILE_NOT_INVOICE"}
        assert kit.codes(crs["facturx-chiffre.pdf"]) == {"PDF_ENCRYPTED"}

        events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix),
            until=lambda evs: sum(e.payload["statut"] in kit.TERMINAL for e in evs) >= len(crs),
        )
        terminal = {e.key: e.payload for e in events if e.payload["statut"] in kit.TERMINAL}
        payload = terminal[rejected["numeroFluxDepot"]]
        assert {"code": "BUSINESS_RULE", "regle": "BR-CO-15", "gravite": "fatal",
                "level": "FACTURE"}.items() <= next(
            e for e in payload["erreurs"] if e["regle"] == "BR-CO-15").items()
        warning = terminal[warned["numeroFluxDepot"]]["avertissements"]
        assert [(w["regle"], w["gravite"]) for w in warning] == [("BR-FR-08_BT-23", "warning")]
        assert terminal[good["numeroFluxDepot"]]["profilFacturX"] == "EN 16931"


async def test_a_facturx_pdf_over_the_api(infra, namespace, intake_settings, kit):
    tokens = TokenFactory()
    partner = tokens.technical("ta-1", kit.SUPPLIER)
    pdf = make_facturx(kit.invoice(kit.CII))
    app = build_app(intake_settings, verifier=tokens.verifier())
    async with serve_in_process(app) as base, httpx.AsyncClient(timeout=30) as client:
        await kit.seed(infra, namespace, accounts=["ta-1"])
        await wait_ready(base)
        multipart = await client.post(
            f"{base}/v1/flows", headers=partner,
            files={"file": ("facture.pdf", pdf, "application/pdf")}, data={"syntaxeFlux": FACTURX})
        raw = await client.post(f"{base}/v1/flows", content=make_facturx(kit.invoice(kit.CII)),
                                params={"nomFichier": "brute.pdf"}, headers=partner)
        assert multipart.status_code == raw.status_code == 202, multipart.text
        for response in (multipart, raw):
            numero = response.json()["numeroFluxDepot"]
            cr = await terminal_cr(client, f"{base}/v1/flows/{numero}", partner, kit.TERMINAL)
            assert cr["statut"] == "IN_INTEGRE", cr
            assert (cr["syntaxeFlux"], cr["profilFacturX"]) == (FACTURX, "EN 16931")
        assert multipart.json()["empreinteSha256"] == hashlib.sha256(pdf).hexdigest()
