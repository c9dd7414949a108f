"""An instance's life: status, start (formatting Kafka's storage, spawning both, waiting until
they answer), stop, and the endpoints to give clients."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from .layout import (
    DEFAULT_TIMEOUT,
    FERRETDB_STOP_GRACE,
    FERRETDB_VERSION,
    KAFKA_HEAP,
    KAFKA_LOG4J2,
    KAFKA_STOP_GRACE,
    KAFKA_VERSION,
    LOG4J_VERSION,
    PROG,
    Endpoints,
    InfraError,
    InstanceStatus,
    Layout,
    Ports,
    Provisioned,
    ServiceStatus,
    layout_of,
    port_accepts,
    resolve_ports,
    say,
)
from .probes import ferretdb_probe, kafka_probe
from .processes import (
    CHILDREN,
    alive,
    ferretdb_marker,
    find_by_marker,
    kafka_marker,
    now_iso,
    read_pid,
    rotate_log,
    tail,
    terminate,
)
from .provisioning import (
    binary_version,
    check_tools,
    file_lock,
    java_bin,
    java_major,
    provision,
    read_json,
    write_json,
)


def instance_ports(layout: Layout, fallback: Ports) -> Ports:
    """Ports a running instance was started with (run/instance.json), else `fallback`."""
    info = read_json(layout.instance_json)
    if info and isinstance(info.get("ports"), dict):
        try:
            return Ports(**{k: int(v) for k, v in info["ports"].items()})
        except (TypeError, ValueError):
            pass
    return fallback


def _running_pid(pid_file: Path, marker: str) -> int | None:
    pid = read_pid(pid_file)
    if pid is not None and alive(pid, marker):
        return pid
    if pid is not None:
        with contextlib.suppress(OSError):
            pid_file.unlink()  # stale
    return None


def status(instance: str = "test", probe: bool = True) -> InstanceStatus:
    """Running/stopped (and answering or not) for Kafka and FerretDB of one instance."""
    layout = layout_of(instance)
    kpid = _running_pid(layout.kafka_pid, kafka_marker(layout))
    fpid = _running_pid(layout.ferretdb_pid, ferretdb_marker(layout))
    ports = resolve_ports(instance)
    if kpid or fpid:
        ports = instance_ports(layout, ports)
    kready = bool(kpid and probe and kafka_probe(ports.kafka, timeout=2.0)[0])
    fready = bool(fpid and probe and ferretdb_probe(ports.mongo, timeout=2.0)[0])
    return InstanceStatus(
        instance,
        ServiceStatus("kafka", kpid is not None, kready, kpid, ports.kafka),
        ServiceStatus("ferretdb", fpid is not None, fready, fpid, ports.mongo),
    )


def _endpoints(ports: Ports) -> Endpoints:
    return Endpoints(
        kafka_bootstrap=f"127.0.0.1:{ports.kafka}",
        mongodb_uri=f"mongodb://127.0.0.1:{ports.mongo}/",
        kafka_version=KAFKA_VERSION,
        ferretdb_version=FERRETDB_VERSION,
    )


def endpoints(
    instance: str = "test", kafka_port: int | None = None, mongo_port: int | None = None
) -> Endpoints:
    """Endpoints of an instance (those it runs with if it is running), without starting anything."""
    layout = layout_of(instance)
    requested = resolve_ports(instance, kafka_port, mongo_port)
    if kafka_port or mongo_port:
        return _endpoints(requested)
    return _endpoints(
        instance_ports(layout, requested) if status(instance, probe=False).running else requested
    )


def _kafka_cluster_id() -> str:
    while True:  # same rule as Kafka's Uuid.randomUuid(): never start with '-'
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _write_kafka_properties(layout: Layout, ports: Ports) -> None:
    props = f"""# Written by deploy/local/infra.py for instance {layout.instance!r} at every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{ports.controller}
listeners=PLAINTEXT://127.0.0.1:{ports.kafka},CONTROLLER://127.0.0.1:{ports.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{ports.kafka}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={layout.kafka_data}
# One node: every internal topic with a single replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Suited to tests: no wait before the first rebalance, topics created on first use.
group.initial.rebalance.delay.ms=0
num.partitions=3
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
log.retention.hours=168
log.segment.bytes=104857600
"""
    layout.kafka_properties.write_text(props)


def _format_kafka(java: str, libs: Path, layout: Layout, ports: Ports) -> None:
    """Format the KRaft log directory once (a single standalone voter)."""
    fmt = read_json(layout.kafka_format_json)
    if (layout.kafka_data / "meta.properties").is_file():
        if fmt and int(fmt.get("controller_port", ports.controller)) != ports.controller:
            raise InfraError(
                f"instance {layout.instance!r} was formatted with KRaft controller port "
                f"{fmt['controller_port']}, not {ports.controller}: start it with the same ports, "
                "or with --fresh to wipe its data"
            )
        return
    if any(layout.kafka_data.iterdir()):
        raise InfraError(
            f"{layout.kafka_data} is not empty but holds no meta.properties: "
            "start with --fresh to wipe it"
        )
    cluster_id = _kafka_cluster_id()
    cmd = [
        java,
        "-Xmx256m",
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J2}",
        f"-Dchorale.kafka.logfile={layout.kafka_log}",
        "-cp",
        f"{libs}/*",
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "--cluster-id",
        cluster_id,
        "--config",
        str(layout.kafka_properties),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    with open(layout.kafka_log, "a") as fh:
        fh.write(out.stdout + out.stderr)
    if out.returncode != 0:
        raise InfraError(
            f"kafka storage format failed (exit {out.returncode}):\n{tail(layout.kafka_log, 30)}"
        )
    write_json(
        layout.kafka_format_json,
        {
            "cluster_id": cluster_id,
            "controller_port": ports.controller,
            "kafka_version": KAFKA_VERSION,
            "formatted_at": now_iso(),
        },
    )


def _spawn(cmd: list[str], log: Path, cwd: Path, pid_file: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:  # O_APPEND: log4j's own appender writes to the same file
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    CHILDREN[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def _log_offset(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stamp(path: Path, text: str) -> None:
    with open(path, "a") as fh:
        fh.write(f"\n===== {PROG} {now_iso()}: {text} =====\n")


def _check_free(port: int, what: str, instance: str) -> None:
    if port_accepts(port, timeout=0.3):
        raise InfraError(
            f"port {port} ({what}) is already in use by another process; "
            f"free it or choose other ports for instance {instance!r} (--kafka-port/--mongo-port "
            "or "
            "CHORALE_KAFKA_PORT/CHORALE_MONGO_PORT/CHORALE_KAFKA_CONTROLLER_PORT)"
        )


@dataclasses.dataclass
class _Wait:
    """One service that start() waits for."""

    name: str
    proc: subprocess.Popen | None  # None: it was already running before this call
    port: int
    log: Path
    log_offset: int  # show only this start's log lines on failure
    probe: Callable[..., tuple[bool, str]]


def _kafka_command(java: str, prov: Provisioned, layout: Layout) -> list[str]:
    return [
        java,
        "-server",
        f"-Xms{min(256, _mb(KAFKA_HEAP))}m",
        f"-Xmx{KAFKA_HEAP}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J2}",
        f"-Dchorale.kafka.logfile={layout.kafka_log}",
        f"-Dkafka.logs.dir={layout.logs}",
        f"-Dchorale.instance={layout.instance}",
        "-cp",
        f"{prov.kafka_libs}/*",
        "kafka.Kafka",
        str(layout.kafka_properties),
    ]


def _ferretdb_command(prov: Provisioned, layout: Layout, ports: Ports) -> list[str]:
    # FerretDB logs every client connection at info level: warn keeps the log readable.
    log_level = os.environ.get("CHORALE_FERRETDB_LOG_LEVEL", "warn")
    return [
        str(prov.ferretdb_binary),
        f"--listen-addr=127.0.0.1:{ports.mongo}",
        "--handler=sqlite",
        f"--sqlite-url=file:{_file_url_path(layout.ferretdb_data)}/",
        "--telemetry=disable",
        f"--state-dir={layout.ferretdb_state}",
        "--debug-addr=-",  # no debug HTTP listener: its default 127.0.0.1:8088 would clash
        f"--log-level={log_level}",
        "--log-format=text",
    ]


def _start_kafka(java: str, prov: Provisioned, layout: Layout, ports: Ports) -> _Wait:
    _check_free(ports.kafka, "kafka", layout.instance)
    _check_free(ports.controller, "kafka controller", layout.instance)
    rotate_log(layout.kafka_log)
    where = f"127.0.0.1:{ports.kafka} (controller {ports.controller})"
    _stamp(layout.kafka_log, f"start {layout.instance!r}: kafka {KAFKA_VERSION} on {where}")
    offset = _log_offset(layout.kafka_log)
    _write_kafka_properties(layout, ports)
    _format_kafka(java, prov.kafka_libs, layout, ports)
    say(f"starting kafka {KAFKA_VERSION} on {where}, log {layout.kafka_log}")
    proc = _spawn(
        _kafka_command(java, prov, layout), layout.kafka_log, layout.root, layout.kafka_pid
    )
    return _Wait("kafka", proc, ports.kafka, layout.kafka_log, offset, kafka_probe)


def _start_ferretdb(prov: Provisioned, layout: Layout, ports: Ports) -> _Wait:
    _check_free(ports.mongo, "mongo", layout.instance)
    rotate_log(layout.ferretdb_log)
    where = f"127.0.0.1:{ports.mongo}"
    _stamp(
        layout.ferretdb_log, f"start {layout.instance!r}: ferretdb {FERRETDB_VERSION} on {where}"
    )
    offset = _log_offset(layout.ferretdb_log)
    say(f"starting ferretdb {FERRETDB_VERSION} on {where}, log {layout.ferretdb_log}")
    cmd = _ferretdb_command(prov, layout, ports)
    proc = _spawn(cmd, layout.ferretdb_log, layout.root, layout.ferretdb_pid)
    return _Wait("ferretdb", proc, ports.mongo, layout.ferretdb_log, offset, ferretdb_probe)


def start(
    instance: str = "test",
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    fresh: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    controller_port: int | None = None,
) -> Endpoints:
    """Provision if needed, then start Kafka and FerretDB for `instance` and wait until both answer.

    Idempotent: an instance already running and answering is left alone. The processes run in
    their own session, so they outlive the caller; stop them with stop(instance). `timeout`
    bounds the wait for readiness, not the (first, minutes-long) provisioning.
    """
    layout = layout_of(instance)
    ports = resolve_ports(instance, kafka_port, mongo_port, controller_port)
    prov = provision()
    java = check_tools(need_mvn=False, need_go=False)
    layout.run.mkdir(parents=True, exist_ok=True)
    with file_lock(layout.run / ".lock", f"waiting for another start/stop of {instance!r}…"):
        current = status(instance)
        if fresh and (current.kafka.running or current.ferretdb.running):
            say(f"--fresh: stopping instance {instance!r} first")
            _stop_locked(layout)
            current = status(instance)
        if current.kafka.running or current.ferretdb.running:
            running = instance_ports(layout, ports)
            if (kafka_port or mongo_port or controller_port) and running != ports:
                raise InfraError(
                    f"instance {instance!r} already runs on kafka {running.kafka} / mongo "
                    f"{running.mongo}; stop it before starting it on other ports"
                )
            ports = running
        if current.ready:
            say(
                f"instance {instance!r} is already running and healthy "
                f"(kafka pid {current.kafka.pid}, ferretdb pid {current.ferretdb.pid})"
            )
            return _endpoints(ports)

        if fresh:
            for d in (layout.kafka_data, layout.ferretdb_data, layout.ferretdb_state):
                if d.exists():
                    shutil.rmtree(d)
            say(f"--fresh: wiped the data of instance {instance!r}")
        layout.ensure()
        write_json(
            layout.instance_json,
            {
                "instance": instance,
                "ports": dataclasses.asdict(ports),
                "kafka_version": KAFKA_VERSION,
                "ferretdb_version": FERRETDB_VERSION,
                "started_at": now_iso(),
            },
        )

        waits: list[_Wait] = []
        try:
            if current.kafka.running:
                offset = _log_offset(layout.kafka_log)
                waits.append(
                    _Wait("kafka", None, ports.kafka, layout.kafka_log, offset, kafka_probe)
                )
            else:
                waits.append(_start_kafka(java, prov, layout, ports))
            if current.ferretdb.running:
                offset = _log_offset(layout.ferretdb_log)
                waits.append(
                    _Wait(
                        "ferretdb", None, ports.mongo, layout.ferretdb_log, offset, ferretdb_probe
                    )
                )
            else:
                waits.append(_start_ferretdb(prov, layout, ports))
            _wait_ready(waits, timeout)
        except BaseException:
            _undo_start(layout, [w for w in waits if w.proc is not None])
            raise
    say(
        f"instance {instance!r} ready: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{ports.kafka} "
        f"MONGODB_URI=mongodb://127.0.0.1:{ports.mongo}/"
    )
    return _endpoints(ports)


def _undo_start(layout: Layout, started: list[_Wait]) -> None:
    """After a failed start: stop what this call started, forget ports if nothing runs."""
    targets = []
    for w in started:
        assert w.proc is not None
        kafka = w.name == "kafka"
        marker = kafka_marker(layout) if kafka else ferretdb_marker(layout)
        grace = KAFKA_STOP_GRACE if kafka else FERRETDB_STOP_GRACE
        targets.append((w.name, w.proc.pid, marker, grace))
    with contextlib.suppress(Exception):
        terminate(targets)
    for w in started:
        with contextlib.suppress(OSError):
            (layout.kafka_pid if w.name == "kafka" else layout.ferretdb_pid).unlink()
    after = status(layout.instance, probe=False)
    if not after.kafka.running and not after.ferretdb.running:
        with contextlib.suppress(OSError):
            layout.instance_json.unlink()


def _mb(size: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", size.strip())
    if not m:
        raise InfraError(f"CHORALE_KAFKA_HEAP={size!r}: expected e.g. 768m or 1g")
    n, unit = int(m.group(1)), m.group(2).lower()
    return {"k": n // 1024, "m": n, "g": n * 1024, "": n // (1024 * 1024)}[unit]


def _file_url_path(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path), safe="/")


def _wait_ready(waits: list[_Wait], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(waits)
    last: dict[str, str] = {}
    while pending:
        still = []
        for w in pending:
            if w.proc is not None and w.proc.poll() is not None:
                raise InfraError(
                    f"{w.name} exited with status {w.proc.returncode} before it was ready; "
                    f"last lines of {w.log}:\n{tail(w.log, 40, since=w.log_offset)}"
                )
            ok, last[w.name] = w.probe(w.port, timeout=2.0)
            if not ok:
                still.append(w)
        pending = still
        if not pending:
            return
        if time.monotonic() > deadline:
            w = pending[0]
            raise InfraError(
                f"{w.name} did not become ready on 127.0.0.1:{w.port} within {timeout:.0f}s "
                f"(last check: {last.get(w.name)}); last lines of {w.log}:\n"
                f"{tail(w.log, 40, since=w.log_offset)}"
            )
        time.sleep(0.25)


def _stop_locked(layout: Layout) -> list[str]:
    targets: list[tuple[str, int, str, float]] = []
    for name, pid_file, marker, grace in (
        ("kafka", layout.kafka_pid, kafka_marker(layout), KAFKA_STOP_GRACE),
        ("ferretdb", layout.ferretdb_pid, ferretdb_marker(layout), FERRETDB_STOP_GRACE),
    ):
        pids = set(find_by_marker(marker))
        pid = read_pid(pid_file)
        if pid is not None and alive(pid, marker):
            pids.add(pid)
        targets += [(name, p, marker, grace) for p in sorted(pids)]
    messages = terminate(targets) if targets else []
    for pid_file in (layout.kafka_pid, layout.ferretdb_pid):
        with contextlib.suppress(OSError):
            pid_file.unlink()
    return messages


def stop(instance: str = "test") -> list[str]:
    """Stop Kafka and FerretDB of `instance` (SIGTERM, SIGKILL after a grace period). Idempotent."""
    layout = layout_of(instance)
    if not layout.root.exists():
        return []
    layout.run.mkdir(parents=True, exist_ok=True)
    with file_lock(
        layout.run / ".lock", f"waiting for another start/stop of instance {instance!r}…"
    ):
        return _stop_locked(layout)


def versions() -> dict[str, str]:
    """Versions of the provisioned Kafka (its jar) and FerretDB (the binary's --version)."""
    prov = provision()
    jar = prov.kafka_libs / f"kafka_2.13-{prov.kafka_version}.jar"
    kafka = prov.kafka_version if jar.is_file() else "missing"
    ferretdb = binary_version(prov.ferretdb_binary) or "unknown"
    java = java_bin() or "java"
    return {
        "kafka": kafka,
        "ferretdb": ferretdb,
        "java": str(java_major(java)),
        "log4j": LOG4J_VERSION,
    }
