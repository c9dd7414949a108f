"""Versions, defaults and layout: what runs where (folders, ports), and the errors and
records the other modules share."""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import sys
import zlib
from pathlib import Path

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

HERE = Path(__file__).resolve().parent.parent  # deploy/local
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


def say(message: str) -> None:
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
class Layout:
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


def layout_of(instance: str) -> Layout:
    if not _INSTANCE_RE.match(instance):
        raise InfraError(f"invalid instance name {instance!r} (letters, digits, '.', '_', '-')")
    return Layout(instance, state_root() / instance)


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


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False
