"""Invoice intake end to end: EDI folders → terminal status event on Kafka.

Generates 10,000 realistic invoices of varied sizes (1,000 with --quick) with
`chorale_testkit.invoices` (half UBL, half CII; 1-300 lines; one in ten without the code service
its recipient requires, hence rejected), publishes the directory and four technical accounts,
starts the intake service as its own process on the real Kafka and database, then:

Every rule set is on: XSD, EN 16931 and the French rules BR-FR in fatal mode
(`CHORALE_BR_FR_MODE=fatal`; the samples meet them all), two validation workers (one per core).

0. warm-up: 1,000 invoices (100 with --quick) go through, unmeasured: a fresh broker's JVM
   spends its first minute compiling (tens of seconds of CPU), which is not the steady state;
1. raw validation of the same files, in this process, on one core: lxml parse + XSD + the
   EN 16931 XSLT (Saxon), measured just before and again just after the bulk run: this
   machine's speed drifts by up to half between minutes, so the ratio divides by the mean of
   the two (both are printed); then the cost per invoice of each stage alone (XSD, EN 16931,
   BR-FR, Factur-X extraction from a PDF) and the time of the CEN unit-test suite;
2. bulk: drops every file at once into the accounts' in/ folders (written beforehand under
   another name, then renamed in, as partners do) and times each drop → its terminal
   `flow.status_changed` read back from Kafka: throughput, p50/p99, peak resident memory of the
   intake (service process + validation workers) with all of them waiting, CPU time per flow of
   each party (intake, workers, FerretDB, Kafka, this bench) and the service's stage timings;
3. paced: 50 invoices per second for 20 s (5 s with --quick): latency p50/p99.

    make bench BENCH_ARGS="intake"            # or: uv run python bench/run.py intake [--quick]

BENCH_INTAKE_ENV="CHORALE_X=1 ..." passes settings to the service; BENCH_INTAKE_PYSPY=<file>
records the bulk phase with py-spy (PY_SPY=<binary>, BENCH_INTAKE_PYSPY_ARGS="--gil").
CHORALE_BENCH_INSTANCE=<name> runs on its own broker and database (default `bench`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from harness import Figure, percentile
from lxml import etree
from pymongo import AsyncMongoClient

from chorale_contracts import Topic, new_envelope, topic_name
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_contracts.events.identity import TechnicalAccountCreated
from chorale_intake.domain import schematron, xsd
from chorale_intake.domain.business_rules import BrFrMode
from chorale_intake.domain.facturx import open_facturx
from chorale_intake.domain.syntax import RootKind, detect_root
from chorale_intake.domain.xml_safety import hardened_parser
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready
from chorale_testkit import invoices as samples

ROOT = Path(__file__).resolve().parents[1]
BUYER, SUPPLIER = "20007104100046", "73282932000074"
ACCOUNTS = ("bench-a", "bench-b", "bench-c", "bench-d")
PACE = 50  # invoices per second in the paced run
SERVICE_DEFAULTS = {"CHORALE_BR_FR_MODE": "fatal", "CHORALE_WORKER_COUNT": "2"}
CEN_UNIT_TESTS = ROOT / "services/invoice-intake/tests/unit/test_intake_cen_unit_tests.py"
TERMINAL_MARK = b'"statutPrecedent":"IN_EN_COURS_TRAITEMENT"'


def generate(folder: Path, prefix: str, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    issued = date.today() - timedelta(days=3)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        draw = rng.random()
        lines = (
            rng.randint(1, 10)
            if draw < 0.6
            else rng.randint(11, 50)
            if draw < 0.9
            else rng.randint(51, 300)
        )
        raw = samples.make_invoice(
            "IN_DP_E1_UBL_INVOICE" if i % 2 == 0 else "IN_DP_E1_CII_16B",
            buyer_siret=BUYER,
            supplier_siret=SUPPLIER,
            number=f"{prefix}-{i:06d}",
            issue_date=issued,
            service_code=None if i % 10 == 9 else "SERV-COMPTA",
            engagement=f"EJ-{i}" if i % 4 else None,
            lines=lines,
        )
        path = folder / f"{prefix}-{i:06d}.xml"
        path.write_bytes(raw)
        paths.append(path)
    return paths


def _en16931(kind: RootKind) -> tuple[schematron.Stylesheet, ...]:
    return schematron.stylesheets_for(kind, BrFrMode.OFF)


def raw_validation_rate(blobs: list[bytes]) -> float:
    """lxml parse (hardened parser) + XSD + EN 16931 XSLT, one file after the other, one
    core: what a validator does, without the service around it."""
    xsd.warm_up()
    schematron.warm_up({s for kind in RootKind for s in _en16931(kind)})
    started = time.perf_counter()
    for raw in blobs:
        root = etree.fromstring(raw, hardened_parser())
        kind = detect_root(root)
        assert kind is not None and not xsd.validate_xsd(root, kind)
        schematron.check(root, _en16931(kind))
    return len(blobs) / (time.perf_counter() - started)


def stage_costs(blobs: list[bytes]) -> list[Figure]:
    """Milliseconds per invoice of each stage alone, on these invoices (one core)."""
    roots = [etree.fromstring(raw, hardened_parser()) for raw in blobs]
    kinds = [detect_root(root) for root in roots]
    french = {kind: schematron.stylesheets_for(kind, BrFrMode.FATAL)[-1] for kind in RootKind}
    schematron.warm_up(french.values())

    def per_invoice(step) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        for root, kind in zip(roots, kinds, strict=True):
            step(root, kind)
        return (time.perf_counter() - started) / len(roots) * 1000

    figures = [
        Figure("stage cost: XSD", per_invoice(xsd.validate_xsd), "ms/invoice",
               higher_is_better=False),
        Figure("stage cost: EN 16931 XSLT", per_invoice(
            lambda root, kind: schematron.check(root, _en16931(kind))), "ms/invoice",
            higher_is_better=False),
        Figure("stage cost: BR-FR XSLT", per_invoice(
            lambda root, kind: schematron.check(root, (french[kind],))), "ms/invoice",
            higher_is_better=False),
    ]
    from chorale_testkit.facturx import make_facturx  # reportlab, factur-x: dev tools

    pdfs = [make_facturx(raw) for raw, kind in zip(blobs, kinds, strict=True)
            if kind is RootKind.CII_INVOICE][:200]
    started = time.perf_counter()
    for pdf in pdfs:
        open_facturx(pdf, max_xml_bytes=10 * 1024 * 1024)
    figures.append(Figure("stage cost: Factur-X extraction (pikepdf)",
                          (time.perf_counter() - started) / max(1, len(pdfs)) * 1000,
                          "ms/invoice", higher_is_better=False))
    return figures


def cen_suite_seconds() -> float:
    """Wall time of the CEN unit-test suite (1,140 cases) as `make test` runs it."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", str(CEN_UNIT_TESTS), "-q",
                    "-p", "no:cacheprovider"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def publish_reference_data(bootstrap: str, prefix: str) -> None:
    snapshots = [
        DirectorySnapshot(
            identifiant=ident,
            typeIdentifiant="SIRET",
            statut="ACTIVE",
            typeStructure="PUBLIQUE" if public else "PRIVEE",
            raisonSociale=f"Structure {ident}",
            parametres={"codeServiceDoitEtreRenseigne": public},
            version=1,
            services=[
                {
                    "codeService": "SERV-COMPTA",
                    "libelle": "Comptabilité",
                    "statut": "ACTIF",
                    "dateDebutActivation": "2020-01-01",
                }
            ]
            if public
            else [],
        )
        for ident, public in ((BUYER, True), (SUPPLIER, False))
    ]
    accounts = [
        TechnicalAccountCreated(
            technicalAccountId=a, structure=SUPPLIER, clientId=a, createdBy="bench"
        )
        for a in ACCOUNTS
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, payload, key in [
            *((Topic.DIRECTORY, s, s.identifiant) for s in snapshots),
            *((Topic.IDENTITY, a, SUPPLIER) for a in accounts),
        ]:
            env = new_envelope(payload, key=key, producer="bench")
            await producer.send_and_wait(
                topic_name(topic, prefix), env.to_bytes(), key=key.encode()
            )
    finally:
        await producer.stop()


class Terminals:
    """Terminal statuses read back from Kafka, by file name, with when they were read."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[float, str]] = {}
        self.changed = asyncio.Event()

    async def follow(self, bootstrap: str, topic: str) -> None:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"bench-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=2000)
                now = time.time()
                for record in (r for records in batches.values() for r in records):
                    if TERMINAL_MARK in record.value:
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
            await asyncio.wait_for(self.changed.wait(), max(0.1, deadline - time.monotonic()))


def proc(pid: int | None, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text() if pid else ""
    except OSError:
        return ""


def family(pid: int) -> list[int]:
    """A process and its children (the validation workers)."""
    return [pid, *(int(p) for p in proc(pid, f"task/{pid}/children").split())]


def rss_mb(pids: list[int]) -> float:
    found = (re.search(r"^VmRSS:\s+(\d+)", proc(p, "status"), re.M) for p in pids)
    return sum(int(m.group(1)) for m in found if m) / 1024


def stat_fields(pid: int | None) -> list[int]:
    """/proc/<pid>/stat after the command name (field 3 onwards, state as 0); [] if gone."""
    stat = proc(pid, "stat")
    return [0, *map(int, stat.rsplit(")", 1)[1].split()[1:])] if stat else []


def cpu_seconds(pid: int | None, fields: slice = slice(11, 15)) -> float:
    """utime + stime + cutime + cstime by default; slice(12, 13) for system time only."""
    return sum(stat_fields(pid)[fields]) / os.sysconf("SC_CLK_TCK")


def minor_faults(pid: int | None) -> int:
    """Minor page faults of a process so far (a freed heap top given back to the system and
    touched again costs one per page)."""
    return sum(stat_fields(pid)[7:8])


def listening_pid(port: int) -> int | None:
    """The process listening on `port` (FerretDB, Kafka)."""
    inodes = {
        row.split()[9]
        for table in ("net/tcp", "net/tcp6")
        for row in proc("self", table).splitlines()[1:]
        if row.split()[3] == "0A" and int(row.split()[1].rsplit(":", 1)[1], 16) == port
    }
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(
                os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] in inodes
                for fd in os.listdir(f"/proc/{pid}/fd")
            ):
                return int(pid)
        except OSError:
            continue
    return None


class CpuMeter:
    """CPU seconds used by each party over a phase: where the time goes."""

    def __init__(self, parties: dict[str, list[int | None]]):
        self.parties = parties
        self.start, self.started = self._read(), time.perf_counter()

    def _read(self) -> dict[str, float]:
        used = {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.parties.items()}
        return {
            **used,
            "intake kernel": cpu_seconds(self.parties["intake"][0], slice(12, 13)),
            "faults": minor_faults(self.parties["intake"][0]),
        }

    def report(self, label: str, flows: int) -> None:
        elapsed, end = time.perf_counter() - self.started, self._read()
        used = {n: end[n] - self.start[n] for n in end}
        total = sum(used[n] for n in self.parties)
        parts = ", ".join(f"{n} {v / flows * 1000:.2f}" for n, v in used.items() if n != "faults")
        print(
            f"  {label}: {elapsed:.1f} s, {total / elapsed:.2f} cores busy; CPU ms per flow: "
            f"{parts} (total {total / flows * 1000:.2f}); intake page faults per flow "
            f"{used['faults'] / flows:.1f}",
            flush=True,
        )


async def stage_report(admin_url: str) -> None:
    """Mean duration and count of each stage, from the service's own histograms."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{admin_url}/metrics")).text
    stats: dict[str, dict[str, float]] = {}
    for kind, stage, value in re.findall(
        r'^chorale_intake_stage_duration_seconds_(sum|count)\{.*stage="(\w+)"\} (\S+)$', text, re.M
    ):
        stats.setdefault(stage, {})[kind] = float(value)
    parts = ", ".join(
        f"{s} {v['sum'] / v['count'] * 1000:.1f} ms × {v['count']:.0f}"
        for s, v in stats.items()
        if v.get("count")
    )
    print(f"  stages (mean × count): {parts}", flush=True)
    crs = {
        terminal: float(value)
        for terminal, value in re.findall(
            r'^chorale_intake_cr_written_total\{.*terminal="(\w+)"\} (\S+)$', text, re.M
        )
    }
    print(
        f"  CR files written: {crs.get('true', 0):.0f} terminal, {crs.get('false', 0):.0f} "
        "showing a status on the way",
        flush=True,
    )


def drop(path: Path, inbox: Path) -> float:
    at = time.time()
    os.rename(path, inbox / path.name)
    return at


async def run(ctx) -> list[Figure]:  # type: ignore[no-untyped-def]
    infra = ctx.infra()
    count, paced_count = (1_000, PACE * 5) if ctx.quick else (10_000, PACE * 20)
    warm_count = count // 10
    work = Path(tempfile.mkdtemp(prefix="bench-intake-", dir=ROOT / "var"))
    namespace, edi = Namespace("b" + uuid.uuid4().hex[:10]), work / "edi"
    started = time.perf_counter()
    warm_files = await asyncio.to_thread(generate, work / "staging", "WARM", warm_count, 41)
    bulk_files = await asyncio.to_thread(generate, work / "staging", "BULK", count, 42)
    paced_files = await asyncio.to_thread(generate, work / "staging", "PACE", paced_count, 43)
    sizes = sorted(p.stat().st_size for p in bulk_files)
    print(
        f"  {count} + {paced_count} invoices generated in {time.perf_counter() - started:.1f}"
        f" s; {sizes[0]} B to {sizes[-1]} B, median {sizes[len(sizes) // 2]} B",
        flush=True,
    )
    blobs = [p.read_bytes() for p in bulk_files]  # the files themselves are moved by the drop

    settings = dict(kv.split("=", 1) for kv in os.environ.get("BENCH_INTAKE_ENV", "").split())
    env = {**service_env(infra, namespace, "invoice-intake"), "CHORALE_EDI_ROOT": str(edi),
           "CHORALE_ARCHIVE_DIR": str(work / "archive"), "CHORALE_LOG_LEVEL": "WARNING",
           **SERVICE_DEFAULTS, **settings}
    print(f"  service settings: {SERVICE_DEFAULTS | settings}", flush=True)
    service = ServiceProcess("chorale_intake", env, free_port(), work / "intake.log")
    terminals, peak, follower = Terminals(), 0.0, None
    await publish_reference_data(infra.kafka_bootstrap, namespace.topic_prefix)
    service.start()
    try:
        await wait_ready(service.base_url, timeout=120)
        assert service.process is not None
        pid = service.process.pid
        inboxes = [edi / a / "in" for a in ACCOUNTS]
        await eventually(lambda: all(i.is_dir() for i in inboxes))  # the service makes them
        follower = asyncio.create_task(
            terminals.follow(infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix))
        )
        await asyncio.sleep(1)  # the follower has joined its group
        for i, path in enumerate(warm_files):
            drop(path, inboxes[i % len(inboxes)])
        await terminals.wait_for({p.name for p in warm_files}, max(300, warm_count / 4))
        print(f"  warm-up: {warm_count} invoices through", flush=True)
        sample = blobs[::5]  # the raw rate on one invoice in five: the same mix, minutes less
        raw_before = await asyncio.to_thread(raw_validation_rate, sample)
        ports = [int(u.rstrip("/").rsplit(":", 1)[1])
                 for u in (infra.mongodb_uri, infra.kafka_bootstrap)]
        meter = CpuMeter({"intake": [pid], "workers": family(pid)[1:],
                          "ferretdb": [listening_pid(ports[0])],
                          "kafka": [listening_pid(ports[1])], "bench": [os.getpid()]})
        profiler = None
        if os.environ.get("BENCH_INTAKE_PYSPY"):
            profiler = await asyncio.create_subprocess_exec(
                os.environ.get("PY_SPY", "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--output",
                os.environ["BENCH_INTAKE_PYSPY"],
                "--nonblocking",
                *os.environ.get("BENCH_INTAKE_PYSPY_ARGS", "").split(),
            )

        drops = {p.name: drop(p, inboxes[i % len(inboxes)]) for i, p in enumerate(bulk_files)}
        waiting = asyncio.create_task(terminals.wait_for(set(drops), max(600, count / 4)))
        while not waiting.done():  # peak memory of the service while the files wait
            peak = max(peak, rss_mb(family(pid)))
            await asyncio.wait([waiting], timeout=0.1)
        await waiting
        meter.report("bulk", count)
        await stage_report(service.admin_url)
        if profiler is not None:
            profiler.send_signal(2)
            await profiler.wait()
        raw_after = await asyncio.to_thread(raw_validation_rate, sample)
        bulk = [terminals.seen[n][0] - at for n, at in drops.items()]
        span = max(terminals.seen[n][0] for n in drops) - min(drops.values())
        rejected = sum(terminals.seen[n][1] != "IN_INTEGRE" for n in drops)

        paced_drops: dict[str, float] = {}
        begin = time.monotonic()
        for i, path in enumerate(paced_files):
            await asyncio.sleep(max(0.0, begin + i / PACE - time.monotonic()))
            paced_drops[path.name] = drop(path, inboxes[i % len(inboxes)])
        await terminals.wait_for(set(paced_drops), timeout=max(120, paced_count))
        paced = [terminals.seen[n][0] - at for n, at in paced_drops.items()]
        meter.report("bulk + paced", count + paced_count)
    finally:
        if follower is not None:
            follower.cancel()
        service.terminate()
        client = AsyncMongoClient(infra.mongodb_uri)
        await client.drop_database(namespace.database("invoice-intake"))
        await client.close()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"  bulk: {count} dropped at once, {rejected} rejected (no code service), "
        f"{count - rejected} integrated",
        flush=True,
    )
    raw_rate = (raw_before + raw_after) / 2
    stages = await asyncio.to_thread(stage_costs, blobs[:1000])
    suite = await asyncio.to_thread(cen_suite_seconds)
    return [
        Figure("raw parse + XSD + EN 16931 (1 core), before", raw_before, "invoices/s"),
        Figure("raw parse + XSD + EN 16931 (1 core), after", raw_after, "invoices/s"),
        Figure("end to end, drop -> terminal event (bulk)", count / span, "invoices/s", 150),
        Figure("ratio end to end / raw validation (mean)", count / span / raw_rate, "", 0.5),
        Figure("bulk latency p50", percentile(bulk, 50), "s", higher_is_better=False),
        Figure("bulk latency p99", percentile(bulk, 99), "s", higher_is_better=False),
        Figure(f"paced {PACE}/s latency p50", percentile(paced, 50), "s",
               higher_is_better=False),
        Figure(f"paced {PACE}/s latency p99", percentile(paced, 99), "s", 1.0,
               higher_is_better=False),
        Figure(f"peak RSS, intake + workers, {count} waiting", peak, "MB", 800,
               higher_is_better=False),
        *stages,
        Figure("CEN unit-test suite (1,140 cases, pytest)", suite, "s", higher_is_better=False),
    ]
