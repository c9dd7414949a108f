#!/usr/bin/env python3
"""Chorale infrastructure without Docker: a local Kafka broker and a local FerretDB.

DESIGN.md §5 (2). Provisions, starts, stops and reports on:

* Apache Kafka 4.x, single node in KRaft mode (broker + controller in one JVM) on 127.0.0.1.
  The broker jars and their runtime dependencies come from Maven Central through Maven
  (deploy/local/kafka/pom.xml), with log4j2 as logging backend (deploy/local/kafka/log4j2.xml).
* FerretDB v1.24 (MongoDB wire protocol, SQLite backend), built from its Go module with the
  local Go toolchain.

Standard library only (Python 3.11+), usable as a command and as a module::

    python deploy/local/infra.py provision|start|stop|status|env|versions|logs \
        [--instance NAME] [--kafka-port N] [--mongo-port N] [--kafka-controller-port N] [--fresh]

    import infra
    endpoints = infra.start(instance="test")   # -> Endpoints(kafka_bootstrap=..., mongodb_uri=...)
    infra.stop("test")

Folders: the provisioned artefacts live in $CHORALE_CACHE_DIR (default ~/.cache/chorale), keyed by
version; each instance's state lives in $CHORALE_STATE_DIR/<instance>/ (default <repo>/var/infra):
logs/kafka.log, logs/ferretdb.log, data/kafka/, data/ferretdb/, run/*.pid.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# Versions and defaults
# ---------------------------------------------------------------------------------------------

#: Apache Kafka broker (org.apache.kafka:kafka_2.13 on Maven Central).
KAFKA_VERSION = os.environ.get("CHORALE_KAFKA_VERSION", "4.4.0")
#: Logging backend put on the broker's class path.
LOG4J_VERSION = "2.25.3"
SLF4J_VERSION = "2.0.17"
#: FerretDB v1 (github.com/FerretDB/FerretDB). v1.24.2 is the last 1.24.x patch: v1.24.0 plus
#: dependency bumps and one compatibility fix (bypassEmptyTsReplacement is ignored).
FERRETDB_VERSION = os.environ.get("CHORALE_FERRETDB_VERSION", "v1.24.2")
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"

MIN_JAVA = 17
MIN_GO = (1, 24)  # FerretDB v1.24.2's go.mod says `go 1.24`

#: Default ports per instance: (kafka, mongo). The KRaft controller listens on kafka + 1000.
# All below the ephemeral ports Linux gives outgoing connections (32768-60999 by default).
DEFAULT_PORTS = {"dev": (9092, 27017), "test": (19092, 28017)}
DERIVED_PORTS_FROM = 22000
DEFAULT_INSTANCE = "dev"  # CLI default; the Python API defaults to "test"
CONTROLLER_PORT_OFFSET = 1000

KAFKA_HEAP = os.environ.get("CHORALE_KAFKA_HEAP", "768m")
DEFAULT_TIMEOUT = 120.0
KAFKA_STOP_GRACE = 30.0
FERRETDB_STOP_GRACE = 10.0

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
KAFKA_POM = HERE / "kafka" / "pom.xml"
KAFKA_LOG4J2 = HERE / "kafka" / "log4j2.xml"

PROG = "chorale-infra"
_INSTANCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class InfraError(RuntimeError):
    """The local infrastructure could not be provisioned, started, stopped or inspected."""


class ToolMissingError(InfraError):
    """A required tool (java, mvn, go) is missing or too old. The CLI exits with status 2."""


@dataclasses.dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    mongodb_uri: str
    kafka_version: str
    ferretdb_version: str

    def as_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "MONGODB_URI": self.mongodb_uri}


@dataclasses.dataclass(frozen=True)
class Provisioned:
    kafka_version: str
    kafka_libs: Path
    ferretdb_version: str
    ferretdb_binary: Path


@dataclasses.dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    ready: bool
    pid: int | None
    port: int


@dataclasses.dataclass(frozen=True)
class InstanceStatus:
    instance: str
    kafka: ServiceStatus
    ferretdb: ServiceStatus

    @property
    def running(self) -> bool:
        return self.kafka.running and self.ferretdb.running

    @property
    def ready(self) -> bool:
        return self.running and self.kafka.ready and self.ferretdb.ready


@dataclasses.dataclass(frozen=True)
class Ports:
    kafka: int
    controller: int
    mongo: int


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    env = os.environ.get("CHORALE_CACHE_DIR")
    return Path(env).expanduser().resolve() if env else Path.home() / ".cache" / "chorale"


def state_root() -> Path:
    env = os.environ.get("CHORALE_STATE_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "var" / "infra"


@dataclasses.dataclass(frozen=True)
class _Layout:
    instance: str
    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def kafka_data(self) -> Path:
        return self.root / "data" / "kafka"

    @property
    def ferretdb_data(self) -> Path:
        return self.root / "data" / "ferretdb"

    @property
    def ferretdb_state(self) -> Path:
        return self.run / "ferretdb-state"

    @property
    def kafka_log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def ferretdb_log(self) -> Path:
        return self.logs / "ferretdb.log"

    @property
    def kafka_properties(self) -> Path:
        return self.run / "server.properties"

    @property
    def kafka_pid(self) -> Path:
        return self.run / "kafka.pid"

    @property
    def ferretdb_pid(self) -> Path:
        return self.run / "ferretdb.pid"

    @property
    def instance_json(self) -> Path:
        return self.run / "instance.json"

    @property
    def kafka_format_json(self) -> Path:
        return self.kafka_data / "chorale-format.json"

    def ensure(self) -> None:
        for d in (self.logs, self.run, self.kafka_data, self.ferretdb_data, self.ferretdb_state):
            d.mkdir(parents=True, exist_ok=True)


def _layout(instance: str) -> _Layout:
    if not _INSTANCE_RE.match(instance):
        raise InfraError(f"invalid instance name {instance!r} (letters, digits, '.', '_', '-')")
    return _Layout(instance, state_root() / instance)


# ---------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------


def _env_port(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        port = int(value)
    except ValueError:
        raise InfraError(f"{name}={value!r} is not a port number") from None
    return _check_port(port, name)


def _check_port(port: int, what: str) -> int:
    if not 1 <= port <= 65535:
        raise InfraError(f"{what}: port {port} is out of range")
    return port


def _default_ports(instance: str) -> Ports:
    if instance in DEFAULT_PORTS:
        kafka, mongo = DEFAULT_PORTS[instance]
        return Ports(kafka, kafka + CONTROLLER_PORT_OFFSET, mongo)
    # Other instances (e.g. one per pytest-xdist worker) get stable ports derived from the name,
    # away from the dev/test defaults: a block of 4 from 22000 to 25999 (kafka, controller,
    # mongo). Below Linux's ephemeral range (32768-60999): a port there may be held, at start,
    # by some outgoing connection (it happened: "Address already in use").
    slot = zlib.crc32(instance.encode()) % 1000
    kafka = DERIVED_PORTS_FROM + 4 * slot
    return Ports(kafka, kafka + 1, kafka + 2)


def resolve_ports(
    instance: str,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    controller_port: int | None = None,
) -> Ports:
    """Ports for an instance: explicit argument, else environment, else the instance default.

    The controller follows an explicitly chosen Kafka port at +1000 (or -1000 near the top).
    """
    default = _default_ports(instance)
    chosen_kafka = kafka_port or _env_port("CHORALE_KAFKA_PORT")
    kafka = chosen_kafka or default.kafka
    mongo = mongo_port or _env_port("CHORALE_MONGO_PORT") or default.mongo
    controller = controller_port or _env_port("CHORALE_KAFKA_CONTROLLER_PORT")
    if not controller:
        if chosen_kafka:
            above = kafka + CONTROLLER_PORT_OFFSET
            controller = above if above <= 65535 else kafka - CONTROLLER_PORT_OFFSET
        else:
            controller = default.controller
    ports = Ports(
        _check_port(kafka, "kafka"),
        _check_port(controller, "kafka controller"),
        _check_port(mongo, "mongo"),
    )
    if len({ports.kafka, ports.controller, ports.mongo}) != 3:
        raise InfraError(f"kafka, controller and mongo ports must differ (got {ports})")
    return ports


def _port_accepts(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------


def _java_bin() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    if not m:
        return None
    parts = m.group(1).split(".")
    try:
        major = int(
            parts[1] if parts[0] == "1" and len(parts) > 1 else re.match(r"\d+", parts[0]).group(0)
        )  # type: ignore[union-attr]
    except (ValueError, AttributeError):
        return None
    return major


def _go_version(go: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"go(\d+)\.(\d+)", out.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _check_java() -> tuple[str | None, str | None]:
    java = _java_bin()
    if java is None:
        return None, f"java not found on PATH (Java {MIN_JAVA}+ is required)"
    major = _java_major(java)
    if major is None:
        return None, f"could not read the version of {java} (Java {MIN_JAVA}+ is required)"
    if major < MIN_JAVA:
        return None, f"java {MIN_JAVA}+ is required (found {major})"
    return java, None


def _check_tools(need_mvn: bool, need_go: bool) -> str:
    """Check every needed tool up front; raise ONE line naming all that is missing. Returns java."""
    problems: list[str] = []
    java, problem = _check_java()
    if problem:
        problems.append(problem)
    if need_mvn and shutil.which("mvn") is None:
        problems.append("mvn not found on PATH (Apache Maven 3.6.3+ is required to fetch Kafka)")
    if need_go:
        go = shutil.which("go")
        if go is None:
            problems.append(
                f"go not found on PATH (Go {MIN_GO[0]}.{MIN_GO[1]}+ is required to build FerretDB)"
            )
        else:
            version = _go_version(go)
            if version is None or version < MIN_GO:
                found = f"{version[0]}.{version[1]}" if version else "unknown"
                problems.append(f"go {MIN_GO[0]}.{MIN_GO[1]}+ is required (found {found})")
    if problems:
        raise ToolMissingError("; ".join(problems))
    assert java is not None
    return java


# ---------------------------------------------------------------------------------------------
# Provisioning (cache)
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path, waiting_message: str | None = None) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting_message:
                _say(waiting_message)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _kafka_recipe_digest() -> str:
    h = hashlib.sha256()
    h.update(KAFKA_POM.read_bytes())
    h.update(f"{KAFKA_VERSION}|{LOG4J_VERSION}|{SLF4J_VERSION}".encode())
    return h.hexdigest()[:16]


def _kafka_dir() -> Path:
    return cache_dir() / "kafka" / KAFKA_VERSION


def _ferretdb_dir() -> Path:
    return cache_dir() / "ferretdb" / FERRETDB_VERSION


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _kafka_ready_in_cache() -> bool:
    marker = _read_json(_kafka_dir() / "provisioned.json")
    libs = _kafka_dir() / "libs"
    return bool(
        marker
        and marker.get("recipe") == _kafka_recipe_digest()
        and (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file()
    )


# One-line fix applied to FerretDB's source before building. FerretDB 1.24's SQLite backend
# creates the `_id` index on `_ferretdb_sjson->"_id"` but filters on `_ferretdb_sjson->'$._id'`;
# SQLite only uses an index whose expression matches, so every lookup by `_id` scanned the whole
# collection (measured: 15 ms at 2,000 documents, 80 ms at 10,000). Both expressions extract the
# same value; the patch makes the filter use the index's spelling. Semantics are unchanged.
FERRETDB_PATCHES = {
    "sqlite-id-index": (
        Path("internal/backends/sqlite/metadata/metadata.go"),
        "IDColumn = DefaultColumn + \"->'$._id'\"",
        "IDColumn = DefaultColumn + `->\"_id\"`",
    ),
}


def _apply_ferretdb_patches(src: Path) -> None:
    for name, (rel, old, new) in FERRETDB_PATCHES.items():
        path = src / rel
        text = path.read_text()
        if old not in text:
            raise InfraError(f"FerretDB patch {name!r} no longer applies to {rel}")
        path.write_text(text.replace(old, new, 1))


def _ferretdb_ready_in_cache() -> bool:
    marker = _read_json(_ferretdb_dir() / "provisioned.json")
    binary = _ferretdb_dir() / "bin" / "ferretdb"
    return bool(
        marker
        and marker.get("version") == FERRETDB_VERSION
        and marker.get("patches") == sorted(FERRETDB_PATCHES)
        and binary.is_file()
    )


def _run_logged(cmd: list[str], *, cwd: Path, env: dict[str, str], what: str, log: Path) -> None:
    """Run a provisioning step, its output kept in a log file; on failure show the tail."""
    with open(log, "w") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        try:
            rc = subprocess.run(
                cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            ).returncode
        except OSError as exc:
            raise InfraError(f"{what} failed: {exc}") from exc
    if rc != 0:
        raise InfraError(f"{what} failed (exit {rc}); full output in {log}:\n{_tail(log, 30)}")


def _provision_kafka() -> None:
    target = _kafka_dir()
    target.mkdir(parents=True, exist_ok=True)
    _say(f"downloading Kafka {KAFKA_VERSION} jars and their dependencies from Maven Central (mvn)…")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target))
    try:
        shutil.copy2(KAFKA_POM, work / "pom.xml")
        libs_tmp = work / "libs"
        cmd = [
            "mvn",
            "-B",
            "-q",
            "-Dstyle.color=never",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs_tmp}",
            "-DincludeScope=runtime",
            f"-Dkafka.version={KAFKA_VERSION}",
            f"-Dlog4j.version={LOG4J_VERSION}",
            f"-Dslf4j.version={SLF4J_VERSION}",
        ]
        _run_logged(
            cmd,
            cwd=work,
            env=dict(os.environ),
            what="mvn dependency:copy-dependencies",
            log=target / "mvn.log",
        )
        if not (libs_tmp / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
            raise InfraError(
                f"Maven finished but kafka_2.13-{KAFKA_VERSION}.jar is missing from {libs_tmp}"
            )
        libs = target / "libs"
        if libs.exists():
            shutil.rmtree(libs)
        os.replace(libs_tmp, libs)
        _write_json(
            target / "provisioned.json",
            {
                "kafka_version": KAFKA_VERSION,
                "log4j_version": LOG4J_VERSION,
                "slf4j_version": SLF4J_VERSION,
                "recipe": _kafka_recipe_digest(),
                "jars": sorted(p.name for p in libs.glob("*.jar")),
                "provisioned_at": _now(),
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _say(
        f"Kafka {KAFKA_VERSION}: {len(list(libs.glob('*.jar')))} jars in {libs} "
        f"({time.monotonic() - started:.0f}s)"
    )


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GOWORK"] = "off"
    env.setdefault(
        "GOTOOLCHAIN", "local"
    )  # build with the Go that is installed; never fetch another
    env["CGO_ENABLED"] = (
        "0"  # FerretDB's SQLite driver (modernc.org/sqlite) is pure Go: no C compiler needed
    )
    flags = env.get("GOFLAGS", "").split()
    flags = [f for f in flags if not f.startswith(("-buildvcs", "-mod="))]
    env["GOFLAGS"] = " ".join([*flags, "-buildvcs=false", "-mod=readonly"])
    return env


def _provision_ferretdb() -> None:
    """Build FerretDB from its Go module.

    `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.x` builds, but the binary panics at
    start: build/version/version.txt is generated by FerretDB's release tooling and is not part of
    the published module, so the version check in build/version fails. We therefore fetch the same
    module with `go mod download`, copy it, write version.txt, and `go build ./cmd/ferretdb` there:
    the upstream command, flags and --version unchanged.
    """
    target = _ferretdb_dir()
    (target / "bin").mkdir(parents=True, exist_ok=True)
    env = _go_env()
    _say(
        f"building FerretDB {FERRETDB_VERSION} from its Go module with the local go; "
        "this takes a few minutes…"
    )
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target))
    try:
        out = subprocess.run(
            ["go", "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        try:
            info = json.loads(out.stdout)
        except ValueError:
            info = {}
        if out.returncode != 0 or not info.get("Dir") or info.get("Error"):
            detail = info.get("Error") or (out.stderr.strip() or out.stdout.strip())[-2000:]
            raise InfraError(
                f"go mod download {FERRETDB_MODULE}@{FERRETDB_VERSION} failed: {detail}"
            )
        src = work / "src"
        shutil.copytree(info["Dir"], src)
        for path in [src, *src.rglob("*")]:  # the module cache is read-only
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        (src / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        _apply_ferretdb_patches(src)
        binary_tmp = work / "ferretdb"
        _run_logged(
            ["go", "build", "-trimpath", "-o", str(binary_tmp), "./cmd/ferretdb"],
            cwd=src,
            env=env,
            what=f"go build FerretDB {FERRETDB_VERSION}",
            log=target / "go-build.log",
        )
        version = _binary_version(binary_tmp)
        if version != FERRETDB_VERSION:
            raise InfraError(
                f"the FerretDB binary just built reports version {version!r}, "
                f"expected {FERRETDB_VERSION}"
            )
        os.replace(binary_tmp, target / "bin" / "ferretdb")
        _write_json(
            target / "provisioned.json",
            {
                "version": FERRETDB_VERSION,
                "module": FERRETDB_MODULE,
                "patches": sorted(FERRETDB_PATCHES),
                "go": _go_version("go"),
                "provisioned_at": _now(),
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _say(
        f"FerretDB {FERRETDB_VERSION}: {target / 'bin' / 'ferretdb'} "
        f"({time.monotonic() - started:.0f}s)"
    )


def _binary_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^version:\s*(\S+)", out.stdout, re.MULTILINE)
    return m.group(1) if m else None


def provision() -> Provisioned:
    """Fetch Kafka and build FerretDB into the cache, once per version.

    Idempotent, and instant when the cache already holds both. Several processes may call it at
    once: a file lock makes the others wait for the first.
    """
    need_kafka = not _kafka_ready_in_cache()
    need_ferretdb = not _ferretdb_ready_in_cache()
    _check_tools(need_mvn=need_kafka, need_go=need_ferretdb)
    if need_kafka or need_ferretdb:
        with _file_lock(
            cache_dir() / ".provision.lock", "waiting for another provisioning run to finish…"
        ):
            if not _kafka_ready_in_cache():
                _provision_kafka()
            if not _ferretdb_ready_in_cache():
                _provision_ferretdb()
    return Provisioned(
        kafka_version=KAFKA_VERSION,
        kafka_libs=_kafka_dir() / "libs",
        ferretdb_version=FERRETDB_VERSION,
        ferretdb_binary=_ferretdb_dir() / "bin" / "ferretdb",
    )


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

# Children started by this Python process, so that we can reap them (no zombies in pytest).
_CHILDREN: dict[int, subprocess.Popen] = {}


_EXITING = "\0exiting"


def _task_state(path: Path) -> str:
    return path.read_text().rsplit(")", 1)[1].split()[0]


def _cmdline(pid: int) -> str | None:
    """Command line of a live process, or None once it is gone (or a zombie).

    _EXITING for a process whose main thread has exited while other threads still run: a JVM
    shutting down looks like that ("[java] <defunct>") for a few seconds, ports still bound.
    """
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            if _task_state(proc / "stat") in ("Z", "X"):
                for task in (proc / "task").iterdir():
                    with contextlib.suppress(OSError, IndexError):
                        if _task_state(task / "stat") not in ("Z", "X"):
                            return _EXITING
                return None
            return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            return None
    try:  # macOS / BSD
        out = subprocess.run(
            ["ps", "-ww", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True
        )
    except OSError:
        return None
    line = out.stdout.strip()
    if out.returncode != 0 or not line or line.startswith("Z"):
        return None
    return line.split(None, 1)[1] if " " in line else ""


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int, marker: str) -> bool:
    """Is `pid` alive and really our process (its command line contains `marker`)?"""
    child = _CHILDREN.get(pid)
    if child is not None:  # started by this Python process: poll() also reaps it
        if child.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    cmd = _cmdline(pid)
    if cmd is None:
        _reap(pid)
        return False
    return cmd == _EXITING or marker in cmd


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _find_by_marker(marker: str) -> list[int]:
    """Processes whose command line contains marker: catches leftovers whose pid file is lost."""
    pids: list[int] = []
    if Path("/proc").is_dir():
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                cmd = _cmdline(int(entry.name))
                if cmd and marker in cmd:
                    pids.append(int(entry.name))
        return pids
    try:
        out = subprocess.run(
            ["ps", "-axww", "-o", "pid=,stat=,command="], capture_output=True, text=True
        )
    except OSError:
        return pids
    for line in out.stdout.splitlines():
        parts = line.split(None, 2)
        if (
            len(parts) == 3
            and not parts[1].startswith("Z")
            and marker in parts[2]
            and int(parts[0]) != os.getpid()
        ):
            pids.append(int(parts[0]))
    return pids


def _kafka_marker(layout: _Layout) -> str:
    return f"kafka.Kafka {layout.kafka_properties}"


def _ferretdb_marker(layout: _Layout) -> str:
    return f"--state-dir={layout.ferretdb_state}"


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:  # started with start_new_session: the group is ours alone
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _terminate(pids_and_markers: list[tuple[str, int, str, float]]) -> list[str]:
    """SIGTERM every process, wait up to its grace period, then SIGKILL. Returns messages."""
    messages: list[str] = []
    pending = [
        (name, pid, marker, grace, time.monotonic() + grace)
        for name, pid, marker, grace in pids_and_markers
    ]
    for _, pid, _, _, _ in pending:
        _signal_group(pid, signal.SIGTERM)
    while pending:
        still: list[tuple[str, int, str, float, float]] = []
        for name, pid, marker, grace, deadline in pending:
            if not _alive(pid, marker):
                messages.append(f"{name} stopped (pid {pid})")
            elif time.monotonic() > deadline:
                _signal_group(pid, signal.SIGKILL)
                end = time.monotonic() + 10
                while _alive(pid, marker) and time.monotonic() < end:
                    time.sleep(0.1)
                if _alive(pid, marker):
                    raise InfraError(f"{name} (pid {pid}) survived SIGKILL")
                messages.append(
                    f"{name} killed: still running {grace:.0f}s after SIGTERM (pid {pid})"
                )
            else:
                still.append((name, pid, marker, grace, deadline))
        pending = still
        if pending:
            time.sleep(0.1)
    return messages


def _rotate_log(path: Path, limit: int = 20 * 1024 * 1024) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > limit:
            os.replace(path, path.with_name(path.name + ".1"))


def _tail(path: Path, lines: int = 40, since: int = 0) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            start = max(since, size - 256 * 1024)
            fh.seek(start)
            data = fh.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join("    " + line for line in data.splitlines()[-lines:]) or "    (log is empty)"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Readiness probes (pure Python wire protocols)
# ---------------------------------------------------------------------------------------------


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def _kafka_request(
    sock: socket.socket, api_key: int, api_version: int, correlation: int, body: bytes
) -> bytes:
    client_id = PROG.encode()
    header = (
        struct.pack(">hhih", api_key, api_version, correlation, len(client_id)) + client_id
    )  # request header v1
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    data = _recv_exact(sock, size)
    (got,) = struct.unpack(">i", data[:4])
    if got != correlation:
        raise ConnectionError(f"unexpected correlation id {got}")
    return data[4:]  # response header v0 is the correlation id only


def kafka_probe(port: int, timeout: float = 3.0) -> tuple[bool, str]:
    """Readiness of a broker over a raw socket, in Kafka's own protocol.

    ApiVersions, then Metadata (the broker must list itself), then FindCoordinator for a group
    (the consumer offsets topic must exist and be loaded).
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            body = _kafka_request(sock, 18, 0, 1, b"")  # ApiVersions v0 (kept by every Kafka)
            error, count = struct.unpack(">hi", body[:6])
            if error:
                return False, f"ApiVersions error {error}"
            versions = {}
            for i in range(count):
                key, lo, hi = struct.unpack(">hhh", body[6 + 6 * i : 12 + 6 * i])
                versions[key] = (lo, hi)
            if 3 not in versions:
                return False, "broker does not offer Metadata yet"
            lo, hi = versions[3]
            version = min(hi, 8)
            if version < max(lo, 4):
                return True, "ApiVersions answered (Metadata v4-v8 not offered, not checked)"
            req = struct.pack(">i", 0) + b"\x00"  # no topics, allow_auto_topic_creation=false
            if version >= 8:
                req += b"\x00\x00"  # include_{cluster,topic}_authorized_operations=false
            resp = _kafka_request(sock, 3, version, 2, req)
            off = 4  # throttle_time_ms
            (nbrokers,) = struct.unpack_from(">i", resp, off)
            off += 4
            brokers = []
            for _ in range(nbrokers):
                node, hlen = struct.unpack_from(">ih", resp, off)
                off += 6
                host = resp[off : off + hlen].decode()
                off += hlen
                (bport, rlen) = struct.unpack_from(">ih", resp, off)
                off += 6 + max(rlen, 0)
                brokers.append((node, host, bport))
            if not brokers:
                return False, "Metadata lists no broker yet"
            lo, hi = versions.get(10, (99, -1))
            if lo <= 1 <= hi:
                # FindCoordinator v1 creates __consumer_offsets on first use: waiting for it here
                # spares the first consumer group of every test run a COORDINATOR_NOT_AVAILABLE.
                key = b"chorale-infra-probe"
                req = struct.pack(">h", len(key)) + key + b"\x00"  # key_type 0 = group
                resp = _kafka_request(sock, 10, 1, 3, req)
                (error,) = struct.unpack_from(">h", resp, 4)
                if error:
                    return False, f"group coordinator not available yet (error {error})"
            return True, f"Metadata v{version}: brokers {brokers}; group coordinator available"
    except (OSError, ConnectionError, struct.error, UnicodeDecodeError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _bson_encode(doc: dict) -> bytes:
    out = bytearray()
    for key, value in doc.items():
        k = key.encode() + b"\x00"
        if isinstance(value, bool):
            out += b"\x08" + k + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            out += b"\x10" + k + struct.pack("<i", value)
        elif isinstance(value, str):
            v = value.encode()
            out += b"\x02" + k + struct.pack("<i", len(v) + 1) + v + b"\x00"
        else:
            raise TypeError(f"unsupported BSON value {value!r}")
    return struct.pack("<i", len(out) + 5) + bytes(out) + b"\x00"


def _bson_decode(data: bytes, off: int = 0) -> tuple[dict, int]:
    """Decode the BSON document at `off`; returns (document, offset after it). Common types only."""
    (size,) = struct.unpack_from("<i", data, off)
    end = off + size - 1
    pos = off + 4
    doc: dict = {}
    while pos < end:
        kind = data[pos]
        pos += 1
        nul = data.index(b"\x00", pos)
        key = data[pos:nul].decode()
        pos = nul + 1
        if kind == 0x01:
            doc[key] = struct.unpack_from("<d", data, pos)[0]
            pos += 8
        elif kind in (0x02, 0x0D, 0x0E):
            (n,) = struct.unpack_from("<i", data, pos)
            doc[key] = data[pos + 4 : pos + 3 + n].decode(errors="replace")
            pos += 4 + n
        elif kind in (0x03, 0x04):
            sub, pos = _bson_decode(data, pos)
            doc[key] = list(sub.values()) if kind == 0x04 else sub
        elif kind == 0x05:
            (n,) = struct.unpack_from("<i", data, pos)
            doc[key] = data[pos + 5 : pos + 5 + n]
            pos += 5 + n
        elif kind == 0x07:
            doc[key] = data[pos : pos + 12].hex()
            pos += 12
        elif kind == 0x08:
            doc[key] = data[pos] == 1
            pos += 1
        elif kind in (0x09, 0x11, 0x12):
            doc[key] = struct.unpack_from("<q", data, pos)[0]
            pos += 8
        elif kind in (0x0A, 0x06, 0xFF, 0x7F):
            doc[key] = None
        elif kind == 0x10:
            doc[key] = struct.unpack_from("<i", data, pos)[0]
            pos += 4
        elif kind == 0x13:
            doc[key] = data[pos : pos + 16]
            pos += 16
        else:
            raise ValueError(f"unsupported BSON type 0x{kind:02x}")
    return doc, end + 1


def mongo_command(port: int, command: dict, timeout: float = 3.0) -> dict:
    """Send one OP_MSG command (e.g. {"hello": 1, "$db": "admin"}) and return the reply document."""
    body = struct.pack("<I", 0) + b"\x00" + _bson_encode(command)
    header = struct.pack("<iiii", 16 + len(body), 1, 0, 2013)  # OP_MSG
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(header + body)
        length, _, _, opcode = struct.unpack("<iiii", _recv_exact(sock, 16))
        reply = _recv_exact(sock, length - 16)
    if opcode != 2013 or reply[4] != 0:
        raise ConnectionError(f"unexpected reply opcode {opcode}")
    doc, _ = _bson_decode(reply, 5)
    return doc


def ferretdb_probe(port: int, timeout: float = 3.0) -> tuple[bool, str]:
    """OP_MSG hello, then ping (which goes through the SQLite backend)."""
    try:
        hello = mongo_command(port, {"hello": 1, "$db": "admin"}, timeout)
        if hello.get("ok") != 1:
            return False, f"hello answered {hello}"
        ping = mongo_command(port, {"ping": 1, "$db": "admin"}, timeout)
        if ping.get("ok") != 1:
            return False, f"ping answered {ping}"
        return True, f"hello ok (maxWireVersion {hello.get('maxWireVersion')})"
    except (OSError, ConnectionError, ValueError, struct.error, IndexError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------------------------
# Instance state
# ---------------------------------------------------------------------------------------------


def _instance_ports(layout: _Layout, fallback: Ports) -> Ports:
    """Ports a running instance was started with (run/instance.json), else `fallback`."""
    info = _read_json(layout.instance_json)
    if info and isinstance(info.get("ports"), dict):
        try:
            return Ports(**{k: int(v) for k, v in info["ports"].items()})
        except (TypeError, ValueError):
            pass
    return fallback


def _running_pid(pid_file: Path, marker: str) -> int | None:
    pid = _read_pid(pid_file)
    if pid is not None and _alive(pid, marker):
        return pid
    if pid is not None:
        with contextlib.suppress(OSError):
            pid_file.unlink()  # stale
    return None


def status(instance: str = "test", probe: bool = True) -> InstanceStatus:
    """Running/stopped (and answering or not) for Kafka and FerretDB of one instance."""
    layout = _layout(instance)
    kpid = _running_pid(layout.kafka_pid, _kafka_marker(layout))
    fpid = _running_pid(layout.ferretdb_pid, _ferretdb_marker(layout))
    ports = resolve_ports(instance)
    if kpid or fpid:
        ports = _instance_ports(layout, ports)
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
    layout = _layout(instance)
    requested = resolve_ports(instance, kafka_port, mongo_port)
    if kafka_port or mongo_port:
        return _endpoints(requested)
    return _endpoints(
        _instance_ports(layout, requested) if status(instance, probe=False).running else requested
    )


def _kafka_cluster_id() -> str:
    while True:  # same rule as Kafka's Uuid.randomUuid(): never start with '-'
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _write_kafka_properties(layout: _Layout, ports: Ports) -> None:
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


def _format_kafka(java: str, libs: Path, layout: _Layout, ports: Ports) -> None:
    """Format the KRaft log directory once (a single standalone voter)."""
    fmt = _read_json(layout.kafka_format_json)
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
            f"kafka storage format failed (exit {out.returncode}):\n{_tail(layout.kafka_log, 30)}"
        )
    _write_json(
        layout.kafka_format_json,
        {
            "cluster_id": cluster_id,
            "controller_port": ports.controller,
            "kafka_version": KAFKA_VERSION,
            "formatted_at": _now(),
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
    _CHILDREN[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def _log_offset(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stamp(path: Path, text: str) -> None:
    with open(path, "a") as fh:
        fh.write(f"\n===== {PROG} {_now()}: {text} =====\n")


def _check_free(port: int, what: str, instance: str) -> None:
    if _port_accepts(port, timeout=0.3):
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


def _kafka_command(java: str, prov: Provisioned, layout: _Layout) -> list[str]:
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


def _ferretdb_command(prov: Provisioned, layout: _Layout, ports: Ports) -> list[str]:
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


def _start_kafka(java: str, prov: Provisioned, layout: _Layout, ports: Ports) -> _Wait:
    _check_free(ports.kafka, "kafka", layout.instance)
    _check_free(ports.controller, "kafka controller", layout.instance)
    _rotate_log(layout.kafka_log)
    where = f"127.0.0.1:{ports.kafka} (controller {ports.controller})"
    _stamp(layout.kafka_log, f"start {layout.instance!r}: kafka {KAFKA_VERSION} on {where}")
    offset = _log_offset(layout.kafka_log)
    _write_kafka_properties(layout, ports)
    _format_kafka(java, prov.kafka_libs, layout, ports)
    _say(f"starting kafka {KAFKA_VERSION} on {where}, log {layout.kafka_log}")
    proc = _spawn(
        _kafka_command(java, prov, layout), layout.kafka_log, layout.root, layout.kafka_pid
    )
    return _Wait("kafka", proc, ports.kafka, layout.kafka_log, offset, kafka_probe)


def _start_ferretdb(prov: Provisioned, layout: _Layout, ports: Ports) -> _Wait:
    _check_free(ports.mongo, "mongo", layout.instance)
    _rotate_log(layout.ferretdb_log)
    where = f"127.0.0.1:{ports.mongo}"
    _stamp(
        layout.ferretdb_log, f"start {layout.instance!r}: ferretdb {FERRETDB_VERSION} on {where}"
    )
    offset = _log_offset(layout.ferretdb_log)
    _say(f"starting ferretdb {FERRETDB_VERSION} on {where}, log {layout.ferretdb_log}")
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
    layout = _layout(instance)
    ports = resolve_ports(instance, kafka_port, mongo_port, controller_port)
    prov = provision()
    java = _check_tools(need_mvn=False, need_go=False)
    layout.run.mkdir(parents=True, exist_ok=True)
    with _file_lock(layout.run / ".lock", f"waiting for another start/stop of {instance!r}…"):
        current = status(instance)
        if fresh and (current.kafka.running or current.ferretdb.running):
            _say(f"--fresh: stopping instance {instance!r} first")
            _stop_locked(layout)
            current = status(instance)
        if current.kafka.running or current.ferretdb.running:
            running = _instance_ports(layout, ports)
            if (kafka_port or mongo_port or controller_port) and running != ports:
                raise InfraError(
                    f"instance {instance!r} already runs on kafka {running.kafka} / mongo "
                    f"{running.mongo}; stop it before starting it on other ports"
                )
            ports = running
        if current.ready:
            _say(
                f"instance {instance!r} is already running and healthy "
                f"(kafka pid {current.kafka.pid}, ferretdb pid {current.ferretdb.pid})"
            )
            return _endpoints(ports)

        if fresh:
            for d in (layout.kafka_data, layout.ferretdb_data, layout.ferretdb_state):
                if d.exists():
                    shutil.rmtree(d)
            _say(f"--fresh: wiped the data of instance {instance!r}")
        layout.ensure()
        _write_json(
            layout.instance_json,
            {
                "instance": instance,
                "ports": dataclasses.asdict(ports),
                "kafka_version": KAFKA_VERSION,
                "ferretdb_version": FERRETDB_VERSION,
                "started_at": _now(),
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
    _say(
        f"instance {instance!r} ready: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{ports.kafka} "
        f"MONGODB_URI=mongodb://127.0.0.1:{ports.mongo}/"
    )
    return _endpoints(ports)


def _undo_start(layout: _Layout, started: list[_Wait]) -> None:
    """After a failed start: stop what this call started, forget ports if nothing runs."""
    targets = []
    for w in started:
        assert w.proc is not None
        kafka = w.name == "kafka"
        marker = _kafka_marker(layout) if kafka else _ferretdb_marker(layout)
        grace = KAFKA_STOP_GRACE if kafka else FERRETDB_STOP_GRACE
        targets.append((w.name, w.proc.pid, marker, grace))
    with contextlib.suppress(Exception):
        _terminate(targets)
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
                    f"last lines of {w.log}:\n{_tail(w.log, 40, since=w.log_offset)}"
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
                f"{_tail(w.log, 40, since=w.log_offset)}"
            )
        time.sleep(0.25)


def _stop_locked(layout: _Layout) -> list[str]:
    targets: list[tuple[str, int, str, float]] = []
    for name, pid_file, marker, grace in (
        ("kafka", layout.kafka_pid, _kafka_marker(layout), KAFKA_STOP_GRACE),
        ("ferretdb", layout.ferretdb_pid, _ferretdb_marker(layout), FERRETDB_STOP_GRACE),
    ):
        pids = set(_find_by_marker(marker))
        pid = _read_pid(pid_file)
        if pid is not None and _alive(pid, marker):
            pids.add(pid)
        targets += [(name, p, marker, grace) for p in sorted(pids)]
    messages = _terminate(targets) if targets else []
    for pid_file in (layout.kafka_pid, layout.ferretdb_pid):
        with contextlib.suppress(OSError):
            pid_file.unlink()
    return messages


def stop(instance: str = "test") -> list[str]:
    """Stop Kafka and FerretDB of `instance` (SIGTERM, SIGKILL after a grace period). Idempotent."""
    layout = _layout(instance)
    if not layout.root.exists():
        return []
    layout.run.mkdir(parents=True, exist_ok=True)
    with _file_lock(
        layout.run / ".lock", f"waiting for another start/stop of instance {instance!r}…"
    ):
        return _stop_locked(layout)


def versions() -> dict[str, str]:
    """Versions of the provisioned Kafka (its jar) and FerretDB (the binary's --version)."""
    prov = provision()
    jar = prov.kafka_libs / f"kafka_2.13-{prov.kafka_version}.jar"
    kafka = prov.kafka_version if jar.is_file() else "missing"
    ferretdb = _binary_version(prov.ferretdb_binary) or "unknown"
    java = _java_bin() or "java"
    return {
        "kafka": kafka,
        "ferretdb": ferretdb,
        "java": str(_java_major(java)),
        "log4j": LOG4J_VERSION,
    }


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _print_status(st: InstanceStatus, ports: Ports) -> None:
    for svc, extra in ((st.kafka, f" (controller {ports.controller})"), (st.ferretdb, "")):
        if svc.running:
            state = "running" if svc.ready else "running, not answering"
            print(f"{svc.name:<9} {state:<22} pid {svc.pid:<8} 127.0.0.1:{svc.port}{extra}")
        else:
            print(f"{svc.name:<9} {'stopped':<22} {'':<12} 127.0.0.1:{svc.port}{extra}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="infra.py",
        description="Chorale infrastructure without Docker: Kafka (KRaft) + FerretDB (SQLite).",
    )
    parser.add_argument(
        "command", choices=["provision", "start", "stop", "status", "env", "versions", "logs"]
    )
    parser.add_argument(
        "--instance",
        default=os.environ.get("CHORALE_INFRA_INSTANCE", DEFAULT_INSTANCE),
        help="state folder under $CHORALE_STATE_DIR (default: dev; the test suite uses 'test')",
    )
    parser.add_argument(
        "--kafka-port",
        type=int,
        help="Kafka listener (default: dev 9092, test 19092; env CHORALE_KAFKA_PORT)",
    )
    parser.add_argument(
        "--mongo-port",
        type=int,
        help="FerretDB listener (default: dev 27017, test 28017; env CHORALE_MONGO_PORT)",
    )
    parser.add_argument(
        "--kafka-controller-port",
        type=int,
        help="KRaft controller (default: kafka port + 1000; env CHORALE_KAFKA_CONTROLLER_PORT)",
    )
    parser.add_argument("--export", action="store_true", help="env: prefix lines with export")
    parser.add_argument(
        "--fresh", action="store_true", help="start: wipe the instance's data first"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="start: seconds to wait for readiness",
    )
    parser.add_argument(
        "--lines", "-n", type=int, default=20, help="logs: lines to show from each log"
    )
    args = parser.parse_args(argv)

    try:
        inst = args.instance
        if args.command == "provision":
            started = time.monotonic()
            prov = provision()
            print(f"kafka {prov.kafka_version}: {prov.kafka_libs}")
            print(f"ferretdb {prov.ferretdb_version}: {prov.ferretdb_binary}")
            _say(f"provisioned in {time.monotonic() - started:.1f}s (cache {cache_dir()})")
        elif args.command == "start":
            ep = start(
                inst,
                args.kafka_port,
                args.mongo_port,
                fresh=args.fresh,
                timeout=args.timeout,
                controller_port=args.kafka_controller_port,
            )
            print(f"KAFKA_BOOTSTRAP_SERVERS={ep.kafka_bootstrap}")
            print(f"MONGODB_URI={ep.mongodb_uri}")
        elif args.command == "stop":
            messages = stop(inst)
            for m in messages:
                _say(m)
            if not messages:
                _say(f"instance {inst!r}: nothing was running")
        elif args.command == "status":
            st = status(inst)
            layout = _layout(inst)
            ports = resolve_ports(
                inst, args.kafka_port, args.mongo_port, args.kafka_controller_port
            )
            if st.kafka.running or st.ferretdb.running:
                ports = _instance_ports(layout, ports)
            _print_status(st, ports)
            return 0 if st.ready else 1
        elif args.command == "env":
            ep = endpoints(inst, args.kafka_port, args.mongo_port)
            prefix = "export " if args.export else ""
            print(f"{prefix}KAFKA_BOOTSTRAP_SERVERS={ep.kafka_bootstrap}")
            print(f"{prefix}MONGODB_URI={ep.mongodb_uri}")
        elif args.command == "versions":
            v = versions()
            print(f"kafka {v['kafka']}")
            print(f"ferretdb {v['ferretdb']}")
            print(f"java {v['java']}")
        elif args.command == "logs":
            layout = _layout(inst)
            for log in (layout.kafka_log, layout.ferretdb_log):
                print(f"==> {log} <==")
                print(_tail(log, args.lines) if log.exists() else "    (no log yet)")
        return 0
    except ToolMissingError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except InfraError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
