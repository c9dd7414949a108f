"""Operability on the running system (issue 9): one deposit followed across services by its
correlation id, metrics that move, no secret in any log, and SIGTERM under load losing nothing
and doing nothing twice."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter

import httpx
import pytest

from chorale_cli.journey.people import PASSWORD
from chorale_contracts import Envelope, Topic, topic_name
from chorale_runtime.testing.kafka_probe import collect, eventually, while_progressing
from chorale_testkit.invoices import make_ubl_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
TERMINAL = {"IN_INTEGRE", "IN_REJETE", "IN_INCIDENTE"}


async def technical_token(stack, report) -> str:
    account = report.technical_account
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{stack.url('identity')}/v1/auth/token", json={
            "clientId": account["clientId"], "clientSecret": account["clientSecret"]})
    answer.raise_for_status()
    return answer.json()["accessToken"]


def scrape(text: str) -> dict[str, float]:
    """Prometheus text → {'name{labels}': value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in samples.items()
               if k.split("{")[0] == name and all(w in k for w in wanted))


async def metrics_of(stack) -> dict[str, dict[str, float]]:
    async with httpx.AsyncClient() as client:
        return {name: scrape((await client.get(f"{p.admin_url}/metrics")).text)
                for name, p in stack.processes.items()}


async def test_one_deposit_is_followed_by_its_correlation_id_and_moves_the_metrics(journey):
    stack, report, _ = journey
    before = await metrics_of(stack)
    correlation = f"corr-{uuid.uuid4().hex}"
    invoice = make_ubl_invoice(buyer_siret=report.public_siret,
                               supplier_siret=report.supplier_siret,
                               number=f"FA-CORR-{correlation[-6:]}")  # no code service
    token = await technical_token(stack, report)
    async with httpx.AsyncClient() as client:
        deposit = await client.post(
            f"{stack.url('invoice-intake')}/v1/flows?nomFichier=sans-code.xml", content=invoice,
            headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": correlation,
                     "Content-Type": "application/xml"})
        assert deposit.status_code == 202, deposit.text
        numero = deposit.json()["numeroFluxDepot"]

        async def terminal():
            cr = (await client.get(f"{stack.url('invoice-intake')}/v1/flows/{numero}",
                                   headers={"Authorization": f"Bearer {token}"})).json()
            return cr if cr["statut"] in TERMINAL else None

        cr = await eventually(terminal, timeout=60)
    assert cr["statut"] == "IN_REJETE"
    assert [e["code"] for e in cr["listeErreurDP"]] == ["SERVICE_CODE_REQUIRED"]

    def lines_with_the_id(service: str) -> list[dict]:
        found = []
        for line in stack.logs(service).splitlines():
            if correlation in line:
                record = json.loads(line)  # every log line is one JSON object
                assert record["service"] == service
                found.append(record)
        return found

    intake_lines = await eventually(lambda: lines_with_the_id("invoice-intake"), timeout=30)
    notif_lines = await eventually(lambda: lines_with_the_id("notifications"), timeout=60)
    assert all(r["correlation_id"] == correlation for r in intake_lines + notif_lines)

    after = await eventually(lambda: _moved(stack, before), timeout=30)
    for service, samples in after.items():
        assert total(samples, "chorale_http_requests_total") > 0, service
    assert total(after["invoice-intake"], "chorale_intake_flows_total", status="IN_REJETE") > \
        total(before["invoice-intake"], "chorale_intake_flows_total", status="IN_REJETE")
    assert "chorale_intake_stage_duration_seconds_count" in " ".join(after["invoice-intake"])
    for service in ("structures", "identity", "habilitations", "notifications"):
        assert any(k.startswith("chorale_consumer_lag") for k in after[service]), service
    for service in ("structures", "identity", "habilitations"):
        assert any(k.startswith("chorale_outbox_backlog") for k in after[service]), service
    assert any(k.startswith("chorale_dlq_size") for k in after["notifications"])


async def _moved(stack, before):
    now = await metrics_of(stack)
    consumed = total(now["notifications"], "chorale_events_consumed_total", outcome="processed")
    mailed = total(now["notifications"], "chorale_notifications_mails_sent_total")
    if consumed > total(before["notifications"], "chorale_events_consumed_total",
                        outcome="processed") and mailed > total(
            before["notifications"], "chorale_notifications_mails_sent_total"):
        return now
    return None


async def test_no_secret_and_no_invoice_content_in_any_log(journey):
    stack, report, _ = journey
    secret = report.technical_account["clientSecret"]
    for service in stack.processes:
        logs = stack.logs(service)
        assert logs.count("\n") > 10, service
        assert PASSWORD not in logs, service
        assert secret not in logs, service
        assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", logs), f"a JWT in {service}'s logs"
        assert "<?xml" not in logs and "urn:oasis:names:specification:ubl" not in logs, service


async def test_sigterm_under_load_loses_nothing_and_does_nothing_twice(journey, infra):
    stack, report, namespace = journey
    inbox = stack.edi_root / report.technical_account["id"] / "in"
    outbox = inbox.parent / "out"
    run = uuid.uuid4().hex[:6]
    names = [f"charge-{run}-{i:03d}.xml" for i in range(600)]
    # One in five without a service code: rejected (the commune requires one).
    expected = {name: "IN_REJETE" if i % 5 == 0 else "IN_INTEGRE"
                for i, name in enumerate(names)}
    for i, name in enumerate(names):
        part = inbox / f".{name}.part"
        part.write_bytes(make_ubl_invoice(
            buyer_siret=report.public_siret, supplier_siret=report.supplier_siret,
            number=f"FA-{run}-{i:03d}", lines=1 + i % 20,
            service_code=None if expected[name] == "IN_REJETE" else "COMPTA"))
        part.rename(inbox / name)

    def terminal_crs() -> dict[str, dict]:
        found = {}
        for path in outbox.glob("*.cr.json"):
            try:
                cr = json.loads(path.read_text())
            except ValueError:
                continue
            if cr["nomFichier"] in names and cr["statut"] in TERMINAL:
                found[cr["nomFichier"]] = cr
        return found

    await eventually(lambda: len(terminal_crs()) >= 1, timeout=60, interval=0.02)
    intake = stack.processes["invoice-intake"]
    done_at_signal = len(terminal_crs())
    started = time.monotonic()
    intake.terminate(timeout=60)
    stopped_in = time.monotonic() - started
    assert intake.stopped_gracefully(), intake.logs()[-3000:]
    assert stopped_in < 30
    await stack.restart("invoice-intake")
    # Waits while flows keep ending (the machine's speed varies), fails if they stop.
    crs = await while_progressing(
        lambda: (c := terminal_crs()) and len(c) == len(names) and c,
        progress=lambda: len(terminal_crs()), stall=60)
    assert {name: cr["statut"] for name, cr in crs.items()} == expected  # one terminal each
    assert done_at_signal < len(names) // 2, "the stop did not happen under load"

    numbers = {cr["numeroFluxDepot"] for cr in crs.values()}
    assert len(numbers) == len(names)  # one flow per file, never two
    flows = await collect(
        infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix),
        until=lambda evs: numbers <= {e.key for e in evs if e.payload["statut"] in TERMINAL},
        timeout=60)
    terminal_ids: dict[str, set[str]] = {}
    for event in flows:
        if event.key in numbers and event.payload["statut"] in TERMINAL:
            terminal_ids.setdefault(event.key, set()).add(str(event.event_id))
    assert all(len(ids) == 1 for ids in terminal_ids.values())  # republished, never redone
    integrated = {cr["numeroFluxDepot"] for cr in crs.values() if cr["statut"] == "IN_INTEGRE"}
    invoices = await collect(
        infra.kafka_bootstrap, topic_name(Topic.INVOICES, namespace.topic_prefix),
        until=lambda evs: len(_made_available(evs, integrated)) == len(integrated),
        timeout=60)
    assert all(len(ids) == 1 for ids in _made_available(invoices, integrated).values())

    # Each invoice made available told once to its reader, each rejection once to the
    # supplier: in a message of its own or listed in a grouped one, never in two messages.
    mailbox = _mailbox(stack)
    invoice_numbers = {f"FA-{run}-{i:03d}" for i, name in enumerate(names)
                       if expected[name] == "IN_INTEGRE"}
    rejected_flows = {cr["numeroFluxDepot"] for cr in crs.values()
                      if cr["statut"] == "IN_REJETE"}

    def told() -> tuple[Counter, Counter]:
        invoices_told = Counter(n for m in mailbox.to(report.people["user"])
                                for n in set(re.findall(rf"FA-{run}-\d{{3}}", m.text)))
        rejections_told = Counter(n for m in mailbox.to(report.people["supplier"])
                                  for n in rejected_flows & set(re.findall(r"[\w-]+", m.text)))
        return invoices_told, rejections_told

    def all_told() -> bool:
        invoices_told, rejections_told = told()
        return set(invoices_told) == invoice_numbers and set(rejections_told) == rejected_flows

    await while_progressing(all_told, progress=lambda: tuple(map(len, told())), stall=60,
                            interval=0.5)
    await asyncio.sleep(2)  # a duplicate would arrive right behind
    invoices_told, rejections_told = told()
    assert set(invoices_told.values()) == {1}, invoices_told
    assert set(rejections_told.values()) == {1}, rejections_told


def _made_available(events: list[Envelope], numbers: set[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in events:
        if e.event_type == "invoice.made_available" and e.payload["numeroFluxDepot"] in numbers:
            out.setdefault(e.payload["numeroFluxDepot"], set()).add(str(e.event_id))
    return out


def _mailbox(stack):
    from chorale_cli.journey import Mailbox

    return Mailbox(stack.mail_dir)
