"""Thousands of files waiting in the EDI folders when the service starts: all are processed,
with bounded memory and never more flows in progress than `max_in_flight`."""

from __future__ import annotations

import asyncio
import random
import re
import time
from pathlib import Path

import httpx
import pytest

from chorale_runtime.testing.plugin import service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready

pytestmark = pytest.mark.integration

FILES = 3000
MAX_IN_FLIGHT = 200


def tree_rss_mb(pid: int) -> float:
    """Resident memory of the service and its validation workers."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids = [pid, *(int(p) for p in f.read().split())]
    except FileNotFoundError:
        return 0.0
    total = 0.0
    for each in pids:
        try:
            with open(f"/proc/{each}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (FileNotFoundError, StopIteration):
            continue
    return total / 1024


def gauge(text: str, name: str) -> float | None:
    match = re.search(rf"^{name}\{{[^}}]*\}} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_thousands_of_files_waiting_at_start_up(infra, namespace, kit, tmp_path: Path):
    root, archive = tmp_path / "edi", tmp_path / "archive"
    rng = random.Random(5)
    for account in ("ta-1", "ta-2"):
        (root / account / "in").mkdir(parents=True)
    for i in range(FILES):
        data = kit.invoice(kit.CII if i % 2 else kit.UBL, lines=rng.randint(1, 40),
                           number=f"FA-ATTENTE-{i:05d}")
        kit.drop(root, "ta-1" if i % 3 else "ta-2", f"attente-{i:05d}.xml", data)
    await kit.seed(infra, namespace, accounts=["ta-1", "ta-2"])
    env = {**service_env(infra, namespace, "invoice-intake"),
           **kit.intake_env(root, archive, CHORALE_MAX_IN_FLIGHT=str(MAX_IN_FLIGHT))}
    service = ServiceProcess("chorale_intake", env, free_port(), tmp_path / "intake.log").start()
    peak_rss = peak_in_flight = peak_waiting = 0.0
    try:
        await wait_ready(service.base_url, timeout=90)
        assert service.process is not None
        names = {"ta-1": [], "ta-2": []}
        for i in range(FILES):
            names["ta-1" if i % 3 else "ta-2"].append(f"attente-{i:05d}.xml")
        # Waits on progress, not on the machine's speed (every flow now runs the business rules
        # too): fails only if no flow ends for two minutes.
        progressed, last_done = time.monotonic(), -1
        async with httpx.AsyncClient() as client:
            while True:
                peak_rss = max(peak_rss, tree_rss_mb(service.process.pid))
                metrics = (await client.get(f"{service.admin_url}/metrics")).text
                peak_in_flight = max(peak_in_flight,
                                     gauge(metrics, "chorale_intake_flows_in_progress") or 0)
                peak_waiting = max(peak_waiting,
                                   gauge(metrics, "chorale_intake_edi_files_waiting") or 0)
                crs = [await asyncio.to_thread(kit.read_crs, root, a) for a in names]
                done = sum(c["statut"] in kit.TERMINAL for found in crs for c in found.values())
                if done >= FILES:
                    break
                if done > last_done:
                    progressed, last_done = time.monotonic(), done
                assert time.monotonic() - progressed < 120, f"stalled at {done}/{FILES}"
                await asyncio.sleep(0.25)
    finally:
        service.terminate()
    assert service.stopped_gracefully(), service.logs()[-3000:]
    statuses = {c["statut"] for found in crs for c in found.values()}
    assert statuses == {"IN_INTEGRE"}
    assert 0 < peak_in_flight <= MAX_IN_FLIGHT
    assert peak_waiting >= FILES / 2  # the gauge saw the backlog
    # The validation worker holds Saxon (business rules): a GraalVM native image whose young
    # generation grows to some 256 MB before it collects, whatever the backlog.
    assert peak_rss < 600, f"peak RSS {peak_rss:.0f} MB"
    assert not list((root / "ta-1" / "in").iterdir())
