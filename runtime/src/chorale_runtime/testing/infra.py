"""Where integration tests find a real Kafka broker and a real MongoDB-protocol database,
in the order of DESIGN.md §5:

1. `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` from the environment;
2. containers through testcontainers, when a Docker engine answers;
3. the project's own local processes (Kafka KRaft + FerretDB), run by the standard-library
   package whose folder the caller passes (`local_infra=`; the repository's is
   `deploy/local/chorale_infra`, named by the pytest setting `chorale_local_infra`).

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


def load_local_infra(package: Path) -> ModuleType:
    """The local-infrastructure package (`chorale_infra`) found in the folder `package`."""
    init = Path(package).resolve() / "__init__.py"
    if not init.is_file():
        raise InfrastructureUnavailable(f"no local infrastructure package at {package}")
    loaded = sys.modules.get(_LOCAL_INFRA)
    if loaded is not None and Path(loaded.__file__ or "").resolve() == init:
        return loaded
    spec = importlib.util.spec_from_file_location(
        _LOCAL_INFRA, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[_LOCAL_INFRA] = module
    spec.loader.exec_module(module)
    return module


_LOCAL_INFRA = "chorale_infra"


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


def _from_local_processes(instance: str, local_infra: Path | None) -> Endpoints:
    if local_infra is None:
        raise InfrastructureUnavailable(
            "no Kafka/MongoDB in the environment, no Docker, and no local infrastructure package "
            "given (pytest setting `chorale_local_infra`)"
        )
    infra = load_local_infra(local_infra)
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
        + f" (built with fixes: {', '.join(sorted(infra.FERRETDB_PATCHES))})",
        cleanup=cleanup,
    )


def obtain(instance: str | None = None, local_infra: Path | None = None) -> Endpoints:
    """`instance`: the local-processes instance to use (default `test`, or
    `CHORALE_TEST_INSTANCE`); `local_infra`: the folder of the package that runs them."""
    found = _from_environment()
    if found:
        return found
    if docker_available() and os.environ.get("CHORALE_TEST_NO_DOCKER") != "1":
        return _from_containers()
    return _from_local_processes(
        instance or os.environ.get("CHORALE_TEST_INSTANCE", "test"), local_infra
    )
