"""Operator import of the reference list of public structures, end to end.

Generates a CSV of 100,000 public structures (5,000 with --quick), starts the structures
service as its own process on the real Kafka and database, uploads the file to
`POST /v1/structures/imports` and follows the job until its report. Prints the import's lines
per second (upload included; target >= 2,000), the service's peak resident memory (target
< 500 MB), and how long after the report the last directory snapshot reached Kafka. Also how
long sniffing the content type of a 1.1 MB zip bomb (a member inflating to 1,100 MiB) takes
(target < 1 s; the memory bound is a unit test).

    make bench BENCH_ARGS="structures"            # or: uv run python bench/run.py structures
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from harness import Figure, proc_rss_mb
from stdnum import luhn

from chorale_contracts import Topic, topic_name
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready
from chorale_runtime.testing.tokens import TokenFactory
from chorale_structures.domain.attachments import inspect_upload
from chorale_structures.settings import StructuresSettings
from chorale_testkit.hostile_zip import zip_bomb

HEADER = (
    "type;identifiant;raisonSociale;libelleStructure;adresse;codePostal;ville;pays;"
    "codeServiceDoitEtreRenseigne;numeroEJDoitEtreRenseigne;recevoirDonneesViaEDI;"
    "presenceMOA"
)
MOA = ("SANS_MOA", "AVEC_MOA", "EXCLUSIVEMENT_MOA")
DEFAULT_SWEEP = StructuresSettings.model_fields["outbox_scan_interval"].default


def siret(i: int) -> str:
    siren = f"{i + 1:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


def generate(path: Path, count: int) -> int:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER + "\n")
        for i in range(count):
            flag = "oui" if i % 3 == 0 else "non"
            out.write(
                f"STRUCTURE;{siret(i)};COMMUNE DE TEST {i};Mairie {i};{i % 200} rue de la "
                f"République;{10000 + i % 85000:05d};VILLE {i % 3000};FR;{flag};non;"
                f"{'oui' if i % 2 else 'non'};{MOA[i % 3]}\n"
            )
    return path.stat().st_size


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_jwks(tokens: TokenFactory) -> tuple[ThreadingHTTPServer, str]:
    body = json.dumps(tokens.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"


async def _upload(client: httpx.AsyncClient, path: Path, headers: dict) -> dict:
    async def chunks():
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk

    response = await client.post(
        "/v1/structures/imports", content=chunks(), headers={**headers, "Content-Type": "text/csv"}
    )
    response.raise_for_status()
    return response.json()


async def _follow(client: httpx.AsyncClient, job_id: str, headers: dict) -> dict:
    while True:
        job = (await client.get(f"/v1/structures/imports/{job_id}", headers=headers)).json()
        if job["statut"] in ("TERMINE", "ECHEC"):
            return job
        await asyncio.sleep(0.25)


async def _on_kafka(bootstrap: str, topic: str, count: int, timeout: float) -> float:
    """Seconds until `topic` holds at least `count` records (one snapshot per structure)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap)  # no group: every partition
    await consumer.start()
    started = time.perf_counter()
    try:
        while True:
            partitions = consumer.assignment()
            if partitions and sum((await consumer.end_offsets(partitions)).values()) >= count:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{topic}: fewer than {count} records")
            await asyncio.sleep(0.5)
    finally:
        await consumer.stop()


def sniff_zip_bomb() -> float:
    """Seconds to inspect (hash, sniff) an attachment whose ZIP member inflates to 1,100 MiB."""
    bomb = zip_bomb("mimetype", 1100)
    started = time.perf_counter()
    attachment = inspect_upload("bombe.zip", bomb)
    elapsed = time.perf_counter() - started
    if attachment.typeContenu != "application/zip":
        raise RuntimeError(f"zip bomb sniffed as {attachment.typeContenu}")
    return elapsed


async def run(ctx) -> list[Figure]:
    bomb_seconds = sniff_zip_bomb()
    infra = ctx.infra()
    count = 5_000 if ctx.quick else 100_000
    tokens = TokenFactory()
    jwks_server, jwks_url = serve_jwks(tokens)
    namespace = Namespace("bench" + uuid.uuid4().hex[:8])
    with tempfile.TemporaryDirectory(prefix="chorale-bench-structures-") as tmp:
        folder = Path(tmp)
        size = generate(folder / "referentiel.csv", count)
        print(f"  generated {count:,} structures, {size / 1e6:.1f} MB")
        env = service_env(
            infra,
            namespace,
            "structures",
            CHORALE_JWKS_URL=jwks_url,
            CHORALE_IMPORT_DIR=str(folder / "imports"),
            CHORALE_LOG_LEVEL="WARNING",
            # as deployed (service_env shortens it for tests)
            CHORALE_OUTBOX_SCAN_INTERVAL=str(DEFAULT_SWEEP),
        )
        service = ServiceProcess(
            "chorale_structures", env, free_port(), folder / "structures.log"
        ).start()
        try:
            await wait_ready(service.base_url, timeout=120)
            headers = tokens.operator("bench-operator")
            async with httpx.AsyncClient(base_url=service.base_url, timeout=300) as client:
                cpu_before = cpu_seconds(service.process.pid)
                started = time.perf_counter()
                job = await _upload(client, folder / "referentiel.csv", headers)
                uploaded = time.perf_counter() - started
                report = await _follow(client, job["idImport"], headers)
                elapsed = time.perf_counter() - started
                cpu = cpu_seconds(service.process.pid) - cpu_before
            if report["statut"] != "TERMINE" or report["lignes"]["creees"] != count:
                raise RuntimeError(f"import did not create every structure: {report}")
            print(
                f"  upload {uploaded:.1f} s, import (upload included) {elapsed:.1f} s", flush=True
            )
            drained = await _on_kafka(
                infra.kafka_bootstrap,
                topic_name(Topic.DIRECTORY, namespace.topic_prefix),
                count,
                1800,
            )
            peak = proc_rss_mb(service.process.pid)
        finally:
            service.terminate()
            jwks_server.shutdown()
    return [
        Figure(
            "import lines per second (upload included)", count / elapsed, "lines/s", target=2000
        ),
        Figure("service peak resident memory", peak, "MB", target=500, higher_is_better=False),
        Figure(
            "service CPU per line (the host's load aside)",
            cpu / count * 1e6,
            "µs",
            higher_is_better=False,
        ),
        Figure("snapshots on Kafka: seconds after the report", drained, "s"),
        Figure("zip bomb upload (1,100 MiB inflated) inspected in", bomb_seconds, "s",
               target=1, higher_is_better=False),
    ]
