"""Invoice intake end to end: EDI folders → terminal status event on Kafka.

Generates 10,000 realistic invoices of varied sizes (1,000 with --quick) with
`chorale_intake.samples` (half UBL, half CII; 1-300 lines; one in ten without the code service
its recipient requires, hence rejected), publishes the directory and four technical accounts,
starts the intake service as its own process on the real Kafka and database, then:

1. raw lxml parse + XSD validation of the same files, in this process, on one core;
2. bulk: drops every file at once into the accounts' in/ folders (written beforehand under
   another name, then renamed in, as partners do) and times, for each, the drop → its
   terminal `flow.status_changed` read back from Kafka: throughput, p50/p99, and the peak
   resident memory of the intake (service process + validation workers) with all of them
   waiting;
3. paced: 100 invoices per second for 20 s (5 s with --quick): latency p50/p99.

    make bench BENCH_ARGS="intake"            # or: uv run python bench/run.py intake [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from harness import Figure, percentile
from lxml import etree
from pymongo import AsyncMongoClient

from chorale_contracts import Topic, new_envelope, topic_name
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_contracts.events.identity import TechnicalAccountCreated
from chorale_intake import samples
from chorale_intake.domain import xsd
from chorale_intake.domain.syntax import detect_root
from chorale_intake.domain.xml_safety import hardened_parser
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready

ROOT = Path(__file__).resolve().parents[1]
BUYER, SUPPLIER = "20007104100046", "73282932000074"
ACCOUNTS = ("bench-a", "bench-b", "bench-c", "bench-d")
PACE = 100  # invoices per second in the paced run


def line_count(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.6:
        return rng.randint(1, 10)
    if draw < 0.9:
        return rng.randint(11, 50)
    return rng.randint(51, 300)


def generate(folder: Path, prefix: str, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    issued = date.today() - timedelta(days=3)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        syntax = "IN_DP_E1_UBL_INVOICE" if i % 2 == 0 else "IN_DP_E1_CII_16B"
        raw = samples.make_invoice(
            syntax, buyer_siret=BUYER, supplier_siret=SUPPLIER, number=f"{prefix}-{i:06d}",
            issue_date=issued, service_code=None if i % 10 == 9 else "SERV-COMPTA",
            engagement=f"EJ-{i}" if i % 4 else None, lines=line_count(rng),
        )
        path = folder / f"{prefix}-{i:06d}.xml"
        path.write_bytes(raw)
        paths.append(path)
    return paths


def raw_lxml_rate(paths: list[Path]) -> float:
    """lxml parse (hardened parser) + XSD validation, one file after the other, one core."""
    xsd.warm_up()
    blobs = [p.read_bytes() for p in paths]
    started = time.perf_counter()
    for raw in blobs:
        root = etree.fromstring(raw, hardened_parser())
        xsd.validate_xsd(root, detect_root(root))
    return len(blobs) / (time.perf_counter() - started)


async def publish_reference_data(bootstrap: str, prefix: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for identifiant, public in ((BUYER, True), (SUPPLIER, False)):
            snapshot = DirectorySnapshot(
                identifiant=identifiant, typeIdentifiant="SIRET",
                typeStructure="PUBLIQUE" if public else "PRIVEE", statut="ACTIVE",
                raisonSociale=f"Structure {identifiant}",
                parametres={"codeServiceDoitEtreRenseigne": public},
                services=[{"codeService": "SERV-COMPTA", "libelle": "Comptabilité",
                           "statut": "ACTIF", "dateDebutActivation": "2020-01-01"}]
                if public else [],
                version=1,
            )
            env = new_envelope(snapshot, key=identifiant, producer="bench")
            await producer.send_and_wait(topic_name(Topic.DIRECTORY, prefix), env.to_bytes(),
                                         key=identifiant.encode())
        for account in ACCOUNTS:
            env = new_envelope(
                TechnicalAccountCreated(technicalAccountId=account, structure=SUPPLIER,
                                        clientId=account, createdBy="bench"),
                key=SUPPLIER, producer="bench")
            await producer.send_and_wait(topic_name(Topic.IDENTITY, prefix), env.to_bytes(),
                                         key=SUPPLIER.encode())
    finally:
        await producer.stop()


class Terminals:
    """Terminal statuses read back from Kafka, by file name, with when they were read."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[float, str]] = {}
        self.changed = asyncio.Event()

    async def follow(self, bootstrap: str, topic: str) -> None:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap,
                                    group_id=f"bench-{uuid.uuid4().hex[:8]}",
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=2000)
                now = time.time()
                for records in batches.values():
                    for record in records:
                        if b'"statutPrecedent":"IN_EN_COURS_TRAITEMENT"' not in record.value:
                            continue
                        payload = json.loads(record.value)["payload"]
                        self.seen.setdefault(payload["nomFichier"], (now, payload["statut"]))
                self.changed.set()
        finally:
            await consumer.stop()

    async def wait_for(self, names: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not names <= self.seen.keys():
            if time.monotonic() > deadline:
                missing = len(names - self.seen.keys())
                raise TimeoutError(f"{missing} of {len(names)} flows without terminal status")
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), timeout=max(0.1, deadline - time.monotonic()))


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the validation workers)."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids = [pid, *(int(p) for p in f.read().split())]
    except FileNotFoundError:
        return 0.0
    for each in pids:
        try:
            with open(f"/proc/{each}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return total


async def sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], tree_rss_mb(pid))
        await asyncio.sleep(0.1)


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:`port` (FerretDB, Kafka), from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in list(f)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def cpu_seconds(pid: int | None, part: slice = slice(11, 15)) -> float:
    """CPU time of a process (default: user + system, its own and its reaped children's;
    `USER` or `SYSTEM` for one of them)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return sum(int(v) for v in fields[part]) / os.sysconf("SC_CLK_TCK")


USER, SYSTEM = slice(11, 12), slice(12, 13)


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


class CpuMeter:
    """CPU seconds used by each party over a phase: where the time goes."""

    def __init__(self, parties: dict[str, list[int | None]]):
        self.parties = parties
        self.start = self._read()
        self.started = time.perf_counter()

    def _read(self) -> dict[str, float]:
        found = {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.parties.items()}
        intake = self.parties["intake"][0]
        found["intake kernel"] = cpu_seconds(intake, SYSTEM)
        return found

    def report(self, label: str, flows: int) -> None:
        elapsed = time.perf_counter() - self.started
        end = self._read()
        used = {n: end[n] - self.start[n] for n in end}
        parts = ", ".join(f"{n} {used[n] / flows * 1000:.2f}" for n in used)
        total = sum(used[n] for n in self.parties)
        print(f"  {label}: {elapsed:.1f} s, {total / elapsed:.2f} cores busy; CPU ms per flow: "
              f"{parts} (total {total / flows * 1000:.2f})", flush=True)


async def stage_report(base_url: str) -> None:
    """Mean duration and count of each stage, from the service's own histograms."""
    import httpx

    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base_url}/metrics")).text
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("chorale_intake_stage_duration_seconds_sum"):
            sums[line.split('stage="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
        if line.startswith("chorale_intake_stage_duration_seconds_count"):
            counts[line.split('stage="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    parts = ", ".join(f"{k} {sums[k] / counts[k] * 1000:.1f} ms × {counts[k]:.0f}"
                      for k in sums if counts.get(k))
    print(f"  stages (mean × count): {parts}", flush=True)


def drop(path: Path, account_dir: Path) -> float:
    at = time.time()
    os.rename(path, account_dir / path.name)
    return at


def latencies(drops: dict[str, float], seen: dict[str, tuple[float, str]]) -> list[float]:
    return [seen[name][0] - at for name, at in drops.items()]


async def run(ctx) -> list[Figure]:  # type: ignore[no-untyped-def]
    infra = ctx.infra()
    count = 1_000 if ctx.quick else 10_000
    paced_count = PACE * (5 if ctx.quick else 20)
    work = Path(tempfile.mkdtemp(prefix="bench-intake-", dir=ROOT / "var"))
    namespace = Namespace("b" + uuid.uuid4().hex[:10])
    edi = work / "edi"
    started = time.perf_counter()
    bulk_files = await asyncio.to_thread(generate, work / "staging", "BULK", count, 42)
    paced_files = await asyncio.to_thread(generate, work / "staging", "PACE", paced_count, 43)
    sizes = [p.stat().st_size for p in bulk_files]
    print(f"  {count} + {paced_count} invoices generated in {time.perf_counter() - started:.1f}"
          f" s; sizes {min(sizes)} B to {max(sizes)} B, median {sorted(sizes)[len(sizes) // 2]}"
          " B", flush=True)
    raw_rate = await asyncio.to_thread(raw_lxml_rate, bulk_files)

    env = {**service_env(infra, namespace, "invoice-intake"),
           "CHORALE_EDI_ROOT": str(edi), "CHORALE_ARCHIVE_DIR": str(work / "archive"),
           "CHORALE_LOG_LEVEL": "WARNING",
           **dict(kv.split("=", 1) for kv in os.environ.get("BENCH_INTAKE_ENV", "").split()
                  if "=" in kv)}
    service = ServiceProcess("chorale_intake", env, free_port(), work / "intake.log")
    terminals = Terminals()
    stop_sampling = asyncio.Event()
    peak = [0.0]
    await publish_reference_data(infra.kafka_bootstrap, namespace.topic_prefix)
    service.start()
    follower = None
    try:
        await wait_ready(service.base_url, timeout=120)
        for account in ACCOUNTS:
            while not (edi / account / "in").is_dir():
                await asyncio.sleep(0.05)
        assert service.process is not None
        follower = asyncio.create_task(
            terminals.follow(infra.kafka_bootstrap,
                             topic_name(Topic.FLOWS, namespace.topic_prefix)))
        sampler = asyncio.create_task(sample_rss(service.process.pid, peak, stop_sampling))
        await asyncio.sleep(1)  # the follower has joined its group

        pid = service.process.pid
        kafka_port = int(infra.kafka_bootstrap.rsplit(":", 1)[1])
        mongo_port = int(infra.mongodb_uri.rstrip("/").rsplit(":", 1)[1])
        meter = CpuMeter({"intake": [pid], "workers": children_of(pid),
                          "ferretdb": [listening_pid(mongo_port)],
                          "kafka": [listening_pid(kafka_port)], "bench": [os.getpid()]})
        profiler = None
        if os.environ.get("BENCH_INTAKE_PYSPY"):
            profiler = await asyncio.create_subprocess_exec(
                os.environ.get("PY_SPY", "py-spy"), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
                "--output", os.environ["BENCH_INTAKE_PYSPY"], "--nonblocking",
                *os.environ.get("BENCH_INTAKE_PYSPY_ARGS", "").split())
        inboxes = [edi / a / "in" for a in ACCOUNTS]
        drops = {p.name: drop(p, inboxes[i % len(inboxes)]) for i, p in enumerate(bulk_files)}
        await terminals.wait_for(set(drops), timeout=max(600, count / 10))
        meter.report("bulk", count)
        await stage_report(service.base_url)
        if profiler is not None:
            profiler.send_signal(2)
            await profiler.wait()
        stop_sampling.set()
        await sampler
        first_drop = min(drops.values())
        last_terminal = max(terminals.seen[n][0] for n in drops)
        bulk_rate = count / (last_terminal - first_drop)
        bulk = latencies(drops, terminals.seen)
        rejected = sum(terminals.seen[n][1] != "IN_INTEGRE" for n in drops)

        paced_drops: dict[str, float] = {}
        begin = time.monotonic()
        for i, path in enumerate(paced_files):
            delay = begin + i / PACE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            paced_drops[path.name] = drop(path, inboxes[i % len(inboxes)])
        await terminals.wait_for(set(paced_drops), timeout=120)
        paced = latencies(paced_drops, terminals.seen)
        meter.report("bulk + paced", count + paced_count)
    finally:
        if follower is not None:
            follower.cancel()
        service.terminate()
        client = AsyncMongoClient(infra.mongodb_uri)
        await client.drop_database(namespace.database("invoice-intake"))
        await client.close()
        shutil.rmtree(work, ignore_errors=True)

    print(f"  bulk: {count} dropped at once, {rejected} rejected (no code service), "
          f"{count - rejected} integrated", flush=True)
    return [
        Figure("raw lxml parse + XSD (1 core)", raw_rate, "invoices/s"),
        Figure("end to end, drop -> terminal event (bulk)", bulk_rate, "invoices/s", 500),
        Figure("ratio end to end / raw lxml", bulk_rate / raw_rate, "", 0.25),
        Figure("bulk latency p50", percentile(bulk, 50), "s", higher_is_better=False),
        Figure("bulk latency p99", percentile(bulk, 99), "s", higher_is_better=False),
        Figure(f"paced {PACE}/s latency p50", percentile(paced, 50), "s",
               higher_is_better=False),
        Figure(f"paced {PACE}/s latency p99", percentile(paced, 99), "s", 1.0,
               higher_is_better=False),
        Figure(f"peak RSS, intake + workers, {count} waiting", peak[0], "MB", 500,
               higher_is_better=False),
    ]
