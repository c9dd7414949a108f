"""The webinar's journey done by people in a real browser (Debian's chromium driven by
Playwright) against every service as its own process, Kafka, the database and the mail catcher:
the journey `chorale demo --browser` plays, every chapter by clicking and typing; only the
partner's EDI drop stays a file drop. Every screen is photographed (desktop and 390 px, in
var/test-artifacts/portal/journey/) and checked with axe-core; the outcomes are checked here
in the services' APIs."""

from __future__ import annotations

import uuid

import httpx
import pytest
import pytest_asyncio

from chorale_cli.journey.browser import TIMEOUT
from chorale_cli.journey.browser_journey import JOURNEY_ARTIFACTS, run_browser_journey
from chorale_cli.journey.data import yesterday
from chorale_cli.journey.http import Api
from chorale_cli.journey.people import PASSWORD
from chorale_cli.journey.stack import running_stack
from chorale_runtime.testing.plugin import Namespace

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def played(infra, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    folder = tmp_path_factory.mktemp("webinar-browser-stack")
    async with running_stack(infra, Namespace("wb" + run), folder, portal=True) as stack:
        narration: list[str] = []
        env = stack.journey_env(narration.append, TIMEOUT, run)
        try:
            report = await run_browser_journey(env, stack.url("portal"))
        except Exception:
            for service in stack.processes:
                print(f"----- {service} (last lines)\n" + stack.logs(service)[-3000:])
            raise
        finally:
            print("\n".join(narration))
        yield stack, report


async def signed_in(stack, http, email: str) -> str:
    answer = await Api(http, stack.url("identity")).call(
        "POST", "/v1/auth/login", json={"email": email, "password": PASSWORD})
    return answer["accessToken"]


async def test_the_webinar_done_in_the_browser_ends_as_in_the_webinar(played):
    stack, report = played
    statuses = {f.label: (f.statut, f.codes) for f in report.flows}
    assert statuses == {
        "valide.xml": ("IN_INTEGRE", []),
        "sans-code-service.xml": ("IN_REJETE", ["SERVICE_CODE_REQUIRED"]),
        "service-expire.xml": ("IN_REJETE", ["SERVICE_INACTIVE"]),
    }
    shots = sorted(p.name for p in JOURNEY_ARTIFACTS.glob("*.png"))
    assert len([s for s in shots if not s.endswith("-390px.png")]) >= 20
    async with httpx.AsyncClient(timeout=30) as http:
        people = {role: await signed_in(stack, http, email)
                  for role, email in report.people.items()}

        def api(service: str, role: str) -> Api:
            return Api(http, stack.url(service), people[role])

        sid = report.public_siret
        # chapter 1–2: the imported structure completed by its GP
        structure = await api("structures", "user").call("GET", f"/v1/structures/{sid}")
        assert structure["telephone"] == "0325000000"
        assert structure["parametres"]["codeServiceDoitEtreRenseigne"] is True
        services = {s["codeService"]: s for s in (await api("structures", "user").call(
            "GET", f"/v1/structures/{sid}/services"))["listeServices"]}
        assert services["COMPTA"]["dateFinActivation"] is None
        assert services["ANCIEN"]["dateFinActivation"] == yesterday().isoformat()
        banks = (await api("structures", "user").call(
            "GET", f"/v1/structures/{sid}/coordonnees-bancaires"))["listeCoordonneesBancaires"]
        assert [(b["bic"], bool(b["idPieceJointe"])) for b in banks] == [("AGRIFRPPXXX", True)]
        # chapter 3: the agent attached to COMPTA, « Factures reçues » in modification
        me = await api("identity", "user").call("GET", "/v1/me")
        attached = (await api("identity", "user").call(
            "GET", "/v1/me/rattachements"))["rattachements"]
        assert [(r["identifiantStructure"], r["codeService"], r["status"])
                for r in attached] == [(sid, "COMPTA", "VALIDEE")]
        grants = (await api("habilitations", "user").call(
            "GET", "/v1/me/habilitations", params={"application": "FACTURES_RECUES"}))
        assert "MODIFICATION" in {g["mode"] for g in grants["habilitations"]}
        # chapter 4: the technical account created on the page works
        account = report.technical_account
        await Api(http, stack.url("identity")).call("POST", "/v1/auth/token", json={
            "clientId": account["clientId"], "clientSecret": account["clientSecret"]})
        # chapter 4 bis: the invoice taken to « mise en paiement » after its completion
        invoice = await api("invoices", "user").call(
            "GET", f"/v1/factures-recues/{report.invoice_id}")
        assert invoice["statut"] == "MISE_EN_PAIEMENT"
        assert "COMPLETEE" in {h["statut"] for h in invoice["historique"]}
        # chapter 5: the role handed over, confirmed on the page
        gp = await api("identity", "user").call(
            "GET", f"/v1/structures/{sid}/gestionnaire-principal")
        assert gp["userId"] == me["id"] and gp["origin"] == "TRANSFERT"
