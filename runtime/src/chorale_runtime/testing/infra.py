"""Where integration tests find a real Kafka broker and a real MongoDB-protocol database,
in the order of DESIGN.md §5:

1. `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` from the environment;
2. containers through testcontainers, when a Docker engine answers;
3. the project's own local processes (`deploy/local/infra.py`: Kafka KRaft + FerretDB).

There is no fourth way: if none works, the tests fail with the reason. Never an in-memory fake.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType


@dataclass
class Endpoints:
    kafka_bootstrap: str
    mongodb_uri: str
    source: str
    kafka_version: str = "unknown"
    database_version: str = "unknown"
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for step in reversed(self.cleanup):
            step()
        self.cleanup.clear()

    def describe(self) -> str:
        return (
            f"infrastructure from {self.source}: Kafka {self.kafka_version} at "
            f"{self.kafka_bootstrap}; {self.database_version} at {self.mongodb_uri}"
        )


class InfrastructureUnavailable(RuntimeError):
    pass


def repo_root(start: Path | None = None) -> Path:
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        if (parent / "deploy" / "local" / "infra.py").exists():
            return parent
    raise InfrastructureUnavailable("cannot find deploy/local/infra.py above " + str(here))


def load_local_infra(root: Path | None = None) -> ModuleType:
    path = repo_root(root) / "deploy" / "local" / "infra.py"
    spec = importlib.util.spec_from_file_location("chorale_local_infra", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def docker_available() -> bool:
    try:
        import docker  # testcontainers' dependency

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def _from_environment() -> Endpoints | None:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if not (kafka and mongo):
        return None
    return Endpoints(kafka, mongo, "environment", "as provided", "as provided")


def _from_containers() -> Endpoints:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    mongo = MongoDbContainer("mongo:7.0")
    kafka.start()
    try:
        mongo.start()
    except Exception:
        kafka.stop()
        raise
    return Endpoints(
        kafka.get_bootstrap_server(),
        mongo.get_connection_url(),
        "testcontainers",
        "4.1.1 (apache/kafka image)",
        "MongoDB 7.0 (mongo image)",
        cleanup=[kafka.stop, mongo.stop],
    )


def _from_local_processes(instance: str) -> Endpoints:
    infra = load_local_infra()
    was_running = infra.status(instance).running
    try:
        # Started here: from empty data, so topics and databases of earlier runs (thousands of
        # partitions after a few test sessions) do not weigh on this one.
        started = infra.start(instance=instance, fresh=not was_running)
    except Exception as exc:
        raise InfrastructureUnavailable(f"local Kafka/FerretDB did not start: {exc}") from exc
    cleanup: list[Callable[[], None]] = []
    if not was_running and os.environ.get("CHORALE_KEEP_TEST_INFRA") != "1":
        cleanup.append(lambda: infra.stop(instance))
    return Endpoints(
        started.kafka_bootstrap,
        started.mongodb_uri,
        f"local processes (instance {instance!r})",
        started.kafka_version,
        f"FerretDB {started.ferretdb_version}"
        + (f" (built with fixes: {', '.join(sorted(infra.FERRETDB_PATCHES))})"
           if getattr(infra, "FERRETDB_PATCHES", None) else ""),
        cleanup=cleanup,
    )


def obtain(instance: str | None = None) -> Endpoints:
    """`instance`: the local-processes instance to use (default `test`, or
    `CHORALE_TEST_INSTANCE`)."""
    found = _from_environment()
    if found:
        return found
    if docker_available() and os.environ.get("CHORALE_TEST_NO_DOCKER") != "1":
        return _from_containers()
    return _from_local_processes(instance or os.environ.get("CHORALE_TEST_INSTANCE", "test"))
