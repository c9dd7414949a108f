"""The invoices service on the real broker and database: invoices enter from the intake's
events, the authorization decision matrix, the actions with their version check, the
supplier's view and actions, the events and the CDAR files of the partner."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from chorale_contracts import Topic, topic_name
from chorale_invoices.domain.cdar_validation import rule_findings, xsd_errors
from chorale_runtime.testing.kafka_probe import collect, eventually
from chorale_runtime.testing.tokens import TokenFactory

from .conftest import ACCOUNT, SUPPLIER

pytestmark = pytest.mark.integration


def _siret() -> str:
    return "2" + "".join(random.choice("0123456789") for _ in range(13))


class Api:
    def __init__(self, http: httpx.AsyncClient, base: str, tokens: TokenFactory):
        self.http, self.base, self.tokens = http, base, tokens

    async def get(self, path: str, user: str | None = None, *, as_: dict | None = None,
                  **params: Any) -> httpx.Response:
        headers = as_ if as_ is not None else self.tokens.headers(user)
        return await self.http.get(f"{self.base}{path}", headers=headers, params=params)

    async def post(self, path: str, user: str, body: dict | None = None,
                   **kw: Any) -> httpx.Response:
        return await self.http.post(f"{self.base}{path}", headers={
            **self.tokens.headers(user), **kw.pop("headers", {})}, json=body, **kw)


async def _setup(publish: Any, recipient: str, *, hide_payment: bool = False) -> None:
    await publish.recipient(recipient, hide_payment=hide_payment, ej_required_on=("S3",))
    await publish.grant("agent-s1", recipient, "FACTURES_RECUES", "MODIFICATION", "S1")
    await publish.grant("lecteur-s1", recipient, "FACTURES_RECUES", "CONSULTATION", "S1")
    await publish.grant("agent-s2", recipient, "FACTURES_RECUES", "MODIFICATION", "S2")
    await publish.grant("chef", recipient, "FACTURES_RECUES", "MODIFICATION")
    await publish.grant("fournisseur", SUPPLIER, "FACTURES_EMISES", "MODIFICATION")
    await publish.grant("fournisseur-lecteur", SUPPLIER, "FACTURES_EMISES", "CONSULTATION")
    await publish.grant("autre", _siret(), "FACTURES_RECUES", "MODIFICATION")


async def _visible(api: Api, user: str, recipient: str, invoice_id: str) -> None:
    """Wait until `user` lists the invoice made available (grants and invoice consumed), and
    until the supplier's grants are known too."""
    async def supplier_ready() -> bool:
        r = await api.get("/v1/factures-emises", "fournisseur", structure=SUPPLIER)
        return r.status_code == 200

    await eventually(supplier_ready, timeout=60)

    async def listed() -> bool:
        r = await api.get("/v1/factures-recues", user, structure=recipient)
        return r.status_code == 200 and any(
            f["invoiceId"] == invoice_id and f["statut"] == "MISE_A_DISPOSITION"
            for f in r.json()["factures"])
    await eventually(listed, timeout=60)


async def test_the_decision_matrix(publish, invoices_service, tokens) -> None:
    recipient = _siret()
    await _setup(publish, recipient)
    in_s1 = await publish.invoice(recipient, "S1")
    async with invoices_service() as base, httpx.AsyncClient(timeout=30) as http:
        api = Api(http, base, tokens)
        for user in ("chef", "agent-s1", "lecteur-s1"):
            await _visible(api, user, recipient, in_s1)
        one = f"/v1/factures-recues/{in_s1}"
        reads = {user: (await api.get(one, user)).status_code
                 for user in ("agent-s1", "lecteur-s1", "agent-s2", "chef", "autre",
                              "fournisseur", "inconnu")}
        assert reads == {"agent-s1": 200, "lecteur-s1": 200, "agent-s2": 404, "chef": 200,
                         "autre": 404, "fournisseur": 404, "inconnu": 404}
        assert (await api.get(one, as_=tokens.operator())).status_code == 200
        assert (await api.get(one, as_=tokens.technical(ACCOUNT, SUPPLIER))).status_code == 404
        # The list: a service agent sees its service only; another structure's agent nothing.
        listed = await api.get("/v1/factures-recues", "agent-s2", structure=recipient)
        assert listed.status_code == 200 and listed.json()["total"] == 0
        other = await api.get("/v1/factures-recues", "autre", structure=recipient)
        assert other.status_code == 403 and other.json()["details"]["raison"] == "NO_GRANT"
        # Consultation reads, never acts; modification acts.
        refused = await api.post(f"{one}/prise-en-charge", "lecteur-s1", {})
        assert refused.status_code == 403
        assert refused.json()["details"]["raison"] == "CONSULTATION_ONLY"
        assert (await api.post(f"{one}/prise-en-charge", "agent-s2", {})).status_code == 404
        # The supplier side.
        issued = f"/v1/factures-emises/{in_s1}"
        assert (await api.get(issued, "fournisseur-lecteur")).status_code == 200
        assert (await api.get(issued, "agent-s1")).status_code == 404
        assert (await api.post(f"{issued}/completer", "fournisseur-lecteur",
                               {"commentaire": "x"})).status_code == 403
        taken = await api.post(f"{one}/prise-en-charge", "agent-s1", {})
        assert taken.status_code == 200, taken.text
        assert taken.json()["statut"] == "PRISE_EN_CHARGE"


async def test_lifecycle_with_suspension_completion_payment_and_cdar_files(
        publish, invoices_service, tokens, infra, namespace, edi_root: Path) -> None:
    recipient = _siret()
    await _setup(publish, recipient)
    invoice_id = await publish.invoice(recipient, "S1", number="F-2026-0042")
    async with invoices_service() as base, httpx.AsyncClient(timeout=30) as http:
        api = Api(http, base, tokens)
        await _visible(api, "agent-s1", recipient, invoice_id)
        await _visible(api, "chef", recipient, invoice_id)
        one = f"/v1/factures-recues/{invoice_id}"
        body = (await api.get(one, "agent-s1")).json()
        assert body["statut"] == "MISE_A_DISPOSITION" and body["version"] == 2
        assert body["montantTTC"] == "1200.00" and body["numeroEngagement"] is None
        assert body["liens"]["original"].endswith(f"/v1/invoices/{invoice_id}/original")
        assert "prise-en-charge" in body["actionsPossibles"]

        # Two agents act on the same version at once: exactly one wins.
        race = await asyncio.gather(
            api.post(f"{one}/prise-en-charge", "agent-s1", headers={"If-Match": '"2"'}),
            api.post(f"{one}/suspendre", "chef", {"version": 2, "motif": "JUSTIF_ABS"}))
        codes = sorted(r.status_code for r in race)
        assert codes == [200, 409], [r.text for r in race]
        loser = next(r for r in race if r.status_code == 409).json()
        assert loser["code"] in ("INVOICE_VERSION_CONFLICT", "TRANSITION_NOT_ALLOWED")
        current = (await api.get(one, "agent-s1")).json()
        assert current["version"] == 3
        if current["statut"] == "SUSPENDUE":  # the suspension won: take it back in the journey
            await _complete(api, invoice_id, 3)
            current = (await api.post(f"{one}/prise-en-charge", "agent-s1", {})).json()

        # Refused moves carry a clear code.
        wrong = await api.post(f"{one}/mise-en-paiement", "agent-s1", {})
        assert (wrong.status_code, wrong.json()["code"]) == (409, "TRANSITION_NOT_ALLOWED")
        stale = await api.post(f"{one}/service-fait", "agent-s1", {"version": 1})
        assert (stale.status_code, stale.json()["code"]) == (409, "INVOICE_VERSION_CONFLICT")
        no_motif = await api.post(f"{one}/suspendre", "agent-s1", {})
        assert no_motif.json()["code"] == "MOTIF_REQUIRED"

        suspended = await api.post(f"{one}/suspendre", "agent-s1", {
            "motif": "JUSTIF_ABS", "commentaire": "Bon de livraison manquant"})
        assert suspended.status_code == 200, suspended.text
        completed = await _complete(api, invoice_id, suspended.json()["version"])
        piece = completed["historique"][-1]["piecesJointes"][0]
        assert piece["tailleOctets"] == len(b"%PDF-1.4 bon de livraison")
        download = await api.get(
            f"/v1/factures/{invoice_id}/pieces-jointes/{piece['pieceId']}", "agent-s1")
        assert download.content == b"%PDF-1.4 bon de livraison"
        for action in ("service-fait", "mandatee", "mise-en-paiement"):
            r = await api.post(f"{one}/{action}", "agent-s1", {})
            assert r.status_code == 200, r.text
        final = (await api.get(one, "agent-s1")).json()
        assert final["statut"] == "MISE_EN_PAIEMENT" and final["actionsPossibles"] == []
        history = [(s["statut"], s.get("auteur"), s.get("motif")) for s in final["historique"]]
        assert ("SUSPENDUE", "agent-s1", "JUSTIF_ABS") in history
        assert ("COMPLETEE", "fournisseur", None) in history
        supplier_view = (await api.get(f"/v1/factures-emises/{invoice_id}", "fournisseur")).json()
        assert supplier_view["statut"] == "MISE_EN_PAIEMENT"
        rejected = await api.post(f"{one}/rejeter", "agent-s1", {"motif": "DOUBLON"})
        assert (rejected.status_code, rejected.json()["code"]) == (409, "INVOICE_STATUS_FINAL")

        # The partner's CDAR files: one per visible change, in order, each valid.
        out = edi_root / ACCOUNT / "out"
        expected = len(final["historique"])

        async def all_written() -> bool:
            return len(list(out.glob("*.cdar.xml"))) == expected if out.exists() else False
        await eventually(all_written, timeout=60)
        files = sorted(out.glob("*.cdar.xml"))
        codes_in_order = []
        for path in files:
            xml = path.read_bytes()
            assert xsd_errors(xml) == [] and [f for f in rule_findings(xml)
                                              if f.flag == "fatal"] == []
            codes_in_order.append(xml.split(b"<ram:ProcessConditionCode>")[1][:3].decode())
        assert codes_in_order[:2] == ["202", "203"] and codes_in_order[-1] == "211"
        assert "208" in codes_in_order and "209" in codes_in_order
        assert not list(out.glob(".*"))  # no temporary file left behind
        # ... and through the API, with the technical account's token.
        partner = tokens.technical(ACCOUNT, SUPPLIER)
        listed = (await api.get("/v1/cdar", as_=partner, invoiceId=invoice_id)).json()
        assert listed["total"] == expected
        first = await api.get(f"/v1/cdar/{listed['messages'][0]['cdarId']}", as_=partner)
        assert first.status_code == 200
        assert b"CrossDomainAcknowledgementAndResponse" in first.content
        assert (await api.get("/v1/cdar", "agent-s1")).status_code == 403

    def complete(got: list[Any]) -> bool:
        return len([e for e in got if e.key == invoice_id]) >= expected

    events = await collect(infra.kafka_bootstrap,
                           topic_name(Topic.INVOICE_STATUS, namespace.topic_prefix),
                           until=complete)
    mine = [e for e in events if e.key == invoice_id]
    assert [e.payload["version"] for e in mine] == list(range(1, expected + 1))
    assert mine[-1].payload["statut"] == "MISE_EN_PAIEMENT"


async def _complete(api: Api, invoice_id: str, version: int) -> dict[str, Any]:
    r = await api.http.post(
        f"{api.base}/v1/factures-emises/{invoice_id}/completer",
        headers=api.tokens.headers("fournisseur"),
        data={"commentaire": "Voici le bon de livraison", "version": str(version)},
        files={"pieces": ("bl.pdf", b"%PDF-1.4 bon de livraison", "application/pdf")})
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "COMPLETEE"
    return (await api.get(f"/v1/factures-recues/{invoice_id}", "agent-s1")).json()


async def test_hidden_payment_recycling_and_readdressing(publish, invoices_service,
                                                         tokens) -> None:
    recipient = _siret()
    await _setup(publish, recipient, hide_payment=True)
    invoice_id = await publish.invoice(recipient, "S1")
    async with invoices_service() as base, httpx.AsyncClient(timeout=30) as http:
        api = Api(http, base, tokens)
        await _visible(api, "chef", recipient, invoice_id)
        one = f"/v1/factures-recues/{invoice_id}"
        early = await api.post(f"/v1/factures-emises/{invoice_id}/readresser", "fournisseur",
                               {"codeService": "NOPE"})
        assert (early.status_code, early.json()["code"]) == (409, "TRANSITION_NOT_ALLOWED")
        r = await api.post(f"{one}/a-recycler", "chef", {"motif": "CODE_ROUTAGE_ERR"})
        assert r.status_code == 200, r.text
        emise = f"/v1/factures-emises/{invoice_id}"
        for code, engagement, error in (("NOPE", None, "SERVICE_UNKNOWN"),
                                        ("OLD", None, "SERVICE_INACTIVE"),
                                        ("S3", None, "ENGAGEMENT_REQUIRED")):
            bad = await api.post(f"{emise}/readresser", "fournisseur",
                                 {"codeService": code, "numeroEngagement": engagement})
            assert (bad.status_code, bad.json()["code"]) == (422, error), bad.text
        moved = await api.post(f"{emise}/readresser", "fournisseur",
                               {"codeService": "S3", "numeroEngagement": "EJ-77"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["statut"] == "MISE_A_DISPOSITION"
        assert moved.json()["codeService"] == "S3"
        # Now an S3 invoice: agent-s1 no longer sees it, the structure-level holder does.
        assert (await api.get(one, "agent-s1")).status_code == 404
        for action in ("prise-en-charge", "service-fait", "mandatee", "mise-en-paiement"):
            assert (await api.post(f"{one}/{action}", "chef", {})).status_code == 200
        seen = (await api.get(emise, "fournisseur")).json()
        assert seen["statut"] == "MANDATEE"  # statutMiseEnPaiementNestPasRemonte
        assert "MISE_EN_PAIEMENT" not in {s["statut"] for s in seen["historique"]}
        listed = (await api.get("/v1/factures-emises", "fournisseur", structure=SUPPLIER,
                                statut="MISE_EN_PAIEMENT")).json()
        assert invoice_id not in {f["invoiceId"] for f in listed["factures"]}
        csv = await api.get("/v1/factures-recues", "chef", structure=recipient, format="csv")
        assert csv.status_code == 200 and invoice_id in csv.text


async def test_events_left_in_an_outbox_by_a_crash_are_published_at_start(
        invoices_service, tokens, infra, namespace, mongo_client, edi_root: Path) -> None:
    from datetime import UTC, datetime

    from chorale_contracts import new_envelope
    from chorale_contracts.events.invoice_status import InvoiceStatusChanged
    from chorale_invoices.adapters.invoice_store import INVOICES
    from chorale_runtime.outbox import new_document

    invoice_id = "FAC20261203-CRASHED00000000000000"
    now = datetime.now(UTC)
    step = {"statut": "MISE_A_DISPOSITION", "date": now.isoformat(),
            "typeAuteur": "PLATEFORME"}
    doc = {"_id": invoice_id, "invoiceId": invoice_id, "numeroFluxDepot": "FLX20261203-X",
           "numeroFacture": "F-CRASH", "dateFacture": "2026-12-01", "dateDepot": "2026-12-03",
           "destinataire": _siret(), "fournisseur": SUPPLIER, "statut": "MISE_A_DISPOSITION",
           "dateStatut": now.isoformat(), "version": 1, "historique": [step],
           "technicalAccountId": ACCOUNT}
    event = new_envelope(InvoiceStatusChanged(
        invoiceId=invoice_id, version=1, statut="MISE_A_DISPOSITION",
        libelleStatut="Mise à disposition", dateStatut=now, typeAuteur="PLATEFORME",
        codeCdar="203", numeroFluxDepot="FLX20261203-X", numeroFacture="F-CRASH",
        dateFacture="2026-12-01", destinataire=doc["destinataire"], fournisseur=SUPPLIER,
        technicalAccountId=ACCOUNT), key=invoice_id, producer="invoices")
    database = mongo_client[namespace.database("invoices")]
    await database[INVOICES].insert_one(new_document(doc, [event]))
    async with invoices_service():
        out = edi_root / ACCOUNT / "out"
        await eventually(lambda: out.exists() and any(out.glob(f"*{invoice_id}-0001.cdar.xml")),
                         timeout=60)

        async def relayed() -> bool:
            stored = await database[INVOICES].find_one({"_id": invoice_id})
            return stored is not None and stored["outbox"] == []
        await eventually(relayed, timeout=30)
