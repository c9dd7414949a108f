"""Chorale infrastructure without Docker: a local Kafka broker and a local FerretDB.

DESIGN.md §5 (2). Provisions, starts, stops and reports on:

* Apache Kafka 4.x, single node in KRaft mode (broker + controller in one JVM) on 127.0.0.1.
  The broker jars and their runtime dependencies come from Maven Central through Maven
  (deploy/local/kafka/pom.xml), with log4j2 as logging backend (deploy/local/kafka/log4j2.xml).
* FerretDB v1.24 (MongoDB wire protocol, SQLite backend), built from its Go module with the
  local Go toolchain.

Standard library only (Python 3.11+). The command is `deploy/local/infra.py`::

    python3 deploy/local/infra.py provision|start|stop|status|env|versions|logs \
        [--instance NAME] [--kafka-port N] [--mongo-port N] [--kafka-controller-port N] [--fresh]

From Python, with `deploy/local` on `sys.path` (or loaded by path, as
`chorale_runtime.testing.infra.load_local_infra` does)::

    import chorale_infra
    endpoints = chorale_infra.start(instance="test")   # -> Endpoints(kafka_bootstrap=..., ...)
    chorale_infra.stop("test")

Modules: `layout` (versions, defaults, folders, ports), `provisioning` (tools and the cache),
`processes` (our processes: finding, signalling, logs), `probes` (Kafka and MongoDB wire
probes), `instances` (status, start, stop, endpoints), `cli` (the command line).

Folders: the provisioned artefacts live in $CHORALE_CACHE_DIR (default ~/.cache/chorale), keyed by
version; each instance's state lives in $CHORALE_STATE_DIR/<instance>/ (default <repo>/var/infra):
logs/kafka.log, logs/ferretdb.log, data/kafka/, data/ferretdb/, run/*.pid.
"""

from __future__ import annotations

from .instances import endpoints, start, status, stop, versions
from .layout import (
    FERRETDB_VERSION,
    KAFKA_VERSION,
    Endpoints,
    InfraError,
    InstanceStatus,
    Ports,
    Provisioned,
    ServiceStatus,
    ToolMissingError,
    cache_dir,
    resolve_ports,
    state_root,
)
from .probes import ferretdb_probe, kafka_probe, mongo_command
from .provisioning import FERRETDB_PATCHES, provision

__all__ = [
    "FERRETDB_PATCHES",
    "FERRETDB_VERSION",
    "KAFKA_VERSION",
    "Endpoints",
    "InfraError",
    "InstanceStatus",
    "Ports",
    "Provisioned",
    "ServiceStatus",
    "ToolMissingError",
    "cache_dir",
    "endpoints",
    "ferretdb_probe",
    "kafka_probe",
    "mongo_command",
    "provision",
    "resolve_ports",
    "start",
    "state_root",
    "status",
    "stop",
    "versions",
]
