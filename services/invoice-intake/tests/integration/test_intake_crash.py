"""Nothing lost, nothing twice: the intake process is killed with SIGKILL (or stopped with
SIGTERM) in the middle of a batch, then restarted. Every file ends in exactly one terminal status
(CR files and `flow.status_changed` events), no file becomes two flows, no invoice is made
available twice."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from chorale_contracts import Topic, topic_name
from chorale_runtime.testing.kafka_probe import collect
from chorale_runtime.testing.plugin import service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready

pytestmark = pytest.mark.integration

FILES = 400


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "State:\tZ" not in f.read()
    except FileNotFoundError:
        return False


def workload(kit) -> dict[str, bytes]:
    """Valid invoices, rejected ones, and pairs of the same invoice (one must be a duplicate)."""
    rng = random.Random(7)
    files: dict[str, bytes] = {}
    for i in range(FILES):
        kind = i % 8
        if kind == 0:
            data = kit.invoice(service_code=None)  # SERVICE_CODE_REQUIRED
        elif kind == 1:
            data = kit.invoice(number=f"FA-PAIRE-{i // 8}", lines=rng.randint(1, 30))
            files[f"paire-{i:04d}-b.xml"] = data
        else:
            data = kit.invoice(kit.CII if kind % 2 else kit.UBL, lines=rng.randint(1, 60))
        files[f"f-{i:04d}.xml"] = data
    return files


async def run_interrupted(kit, infra, namespace, tmp_path: Path, *, kill: bool) -> tuple[
    dict[str, bytes], dict[str, dict]
]:
    """Drop the workload, interrupt the service once a quarter is done, restart it, wait."""
    root, archive = tmp_path / "edi", tmp_path / "archive"
    env = {**service_env(infra, namespace, "invoice-intake"),
           **kit.intake_env(root, archive, CHORALE_BATCH_SIZE="16", CHORALE_WORKER_COUNT="1")}
    files = workload(kit)
    await kit.seed(infra, namespace)
    first = ServiceProcess("chorale_intake", env, free_port(), tmp_path / "intake-1.log").start()
    try:
        await wait_ready(first.base_url, timeout=90)
        await kit.wait_folder(root, "ta-1")
        for name, data in files.items():
            kit.drop(root, "ta-1", name, data)
        deadline = time.monotonic() + 120
        while True:  # interrupt once a good part, but not all, is done
            crs = await asyncio.to_thread(kit.read_crs, root, "ta-1")
            done = sum(c["statut"] in kit.TERMINAL for c in crs.values())
            if done >= len(files) // 4:
                break
            assert time.monotonic() < deadline, first.logs()[-3000:]
            await asyncio.sleep(0.02)
        workers = children(first.process.pid)
        if kill:
            first.kill()
        else:
            assert first.terminate(timeout=30) is not None
            assert first.stopped_gracefully(), first.logs()[-3000:]
    finally:
        first.terminate()
    assert done < len(files), "the interruption came too late to test anything"
    for _ in range(100):  # the validation workers notice and exit
        if not any(alive(p) for p in workers):
            break
        await asyncio.sleep(0.1)
    assert not any(alive(p) for p in workers), "orphaned validation workers"

    second = ServiceProcess("chorale_intake", env, free_port(), tmp_path / "intake-2.log").start()
    try:
        await wait_ready(second.base_url, timeout=90)
        crs = await kit.wait_terminal(root, "ta-1", files, timeout=180)
    finally:
        second.terminate()
        assert second.stopped_gracefully(), second.logs()[-3000:]
    assert not os.listdir(root / "ta-1" / "in")
    return files, crs


async def test_kill_9_mid_batch_then_restart(infra, namespace, kit, tmp_path: Path):
    files, crs = await run_interrupted(kit, infra, namespace, tmp_path, kill=True)
    await assert_exactly_once(kit, infra, namespace, files, crs)


async def test_sigterm_under_load_then_restart(infra, namespace, kit, tmp_path: Path):
    files, crs = await run_interrupted(kit, infra, namespace, tmp_path, kill=False)
    await assert_exactly_once(kit, infra, namespace, files, crs)


async def assert_exactly_once(kit, infra, namespace, files: dict[str, bytes],
                              crs: dict[str, dict]) -> None:
    assert sorted(crs) == sorted(files)
    flow_events = await collect(
        infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix),
        until=lambda evs: len({e.key for e in evs if e.payload["statut"] in kit.TERMINAL})
        >= len(files),
        timeout=60,
    )
    numbers_by_file: dict[str, set[str]] = defaultdict(set)
    terminal_ids: dict[str, set[str]] = defaultdict(set)
    for event in flow_events:
        numbers_by_file[event.payload["nomFichier"]].add(event.key)
        if event.payload["statut"] in kit.TERMINAL:
            terminal_ids[event.key].add(str(event.event_id))
    assert all(len(n) == 1 for n in numbers_by_file.values()), "a file became two flows"
    assert len(numbers_by_file) == len(files)
    assert all(len(ids) == 1 for ids in terminal_ids.values()), "a flow ended twice"
    for name, cr in crs.items():
        [number] = numbers_by_file[name]
        assert cr["numeroFluxDepot"] == number
    statuses = Counter(c["statut"] for c in crs.values())
    assert statuses["IN_INCIDENTE"] == 0

    integrated = statuses["IN_INTEGRE"]
    invoice_events = await collect(
        infra.kafka_bootstrap, topic_name(Topic.INVOICES, namespace.topic_prefix),
        until=lambda evs: len({e.key for e in evs}) >= integrated, timeout=60,
    )
    available = {}
    for event in invoice_events:
        if event.event_type == "invoice.made_available":
            available.setdefault(event.payload["numeroFacture"], set()).add(event.event_id)
    assert len(available) == integrated
    assert all(len(ids) == 1 for ids in available.values()), "an invoice made available twice"
    pairs = [n for n in crs if n.startswith("paire-")]
    for name in pairs:  # of each pair, exactly one is integrated, the other a duplicate
        twin = name.replace("paire-", "f-").replace("-b.xml", ".xml")
        outcomes = sorted([crs[name]["statut"], crs[twin]["statut"]])
        assert outcomes == ["IN_INTEGRE", "IN_REJETE"], (name, crs[name], crs[twin])
        rejected = crs[name] if crs[name]["statut"] == "IN_REJETE" else crs[twin]
        assert kit.codes(rejected) == {"DUPLICATE_INVOICE"}
