"""Pytest fixtures for integration tests against the real infrastructure.

Enabled from the root conftest (`pytest_plugins = ["chorale_runtime.testing.plugin"]`).
Each test gets its own topic prefix and database names, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from chorale_runtime.settings import ServiceSettings
from chorale_runtime.testing.infra import Endpoints, obtain

S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class Namespace:
    """Names private to one test: topic prefix and database names."""

    token: str

    @property
    def topic_prefix(self) -> str:
        return f"{self.token}."

    def database(self, service: str) -> str:
        return f"{self.token}_{service.replace('-', '_')}"


def pytest_configure(config: pytest.Config) -> None:
    # The tests' SMTP servers (aiosmtpd) log every SMTP command at INFO: thousands of lines in
    # a failing test's output, saying nothing the received messages do not. Warnings still show.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "chorale_local_infra",
        "folder of the package that runs Kafka + FerretDB as local processes, from the rootdir "
        "(used when neither the environment nor Docker gives them)",
        default="",
    )


def local_infra_package(config: pytest.Config) -> Path | None:
    """Where the ini setting `chorale_local_infra` says the local-infrastructure package is."""
    setting = str(config.getini("chorale_local_infra"))
    return config.rootpath / setting if setting else None


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest) -> Iterator[Endpoints]:
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    # Shown, not captured: the log must say which Kafka and database the tests ran against.
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        endpoints = obtain(local_infra=local_infra_package(request.config))
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(endpoints.describe())
    try:
        yield endpoints
    finally:
        endpoints.close()


@pytest.fixture
def namespace() -> Namespace:
    return Namespace("t" + uuid.uuid4().hex[:10])


def settings_for(
    cls: type[S], infra: Endpoints, namespace: Namespace, **overrides: Any
) -> S:
    """Settings of a service wired to the test's infrastructure and namespace."""
    base: dict[str, Any] = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "MONGODB_URI": infra.mongodb_uri,
        "topic_prefix": namespace.topic_prefix,
        "log_format": "json",
        "outbox_scan_interval": 1.0,
        "consumer_retry_backoff": 0.05,
        "metrics_interval": 0.5,
        "shutdown_timeout": 10.0,
    }
    base.update(overrides)
    service = base.get("service_name") or cls.model_fields["service_name"].default
    base.setdefault("mongodb_database", namespace.database(service))
    return cls(**base)


def service_env(
    infra: Endpoints, namespace: Namespace, service: str, **extra: str
) -> dict[str, str]:
    """Environment variables for a service run as a subprocess in this test's namespace."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "MONGODB_URI": infra.mongodb_uri,
        "CHORALE_TOPIC_PREFIX": namespace.topic_prefix,
        "CHORALE_MONGODB_DATABASE": namespace.database(service),
        "CHORALE_OUTBOX_SCAN_INTERVAL": "1",
        "CHORALE_CONSUMER_RETRY_BACKOFF": "0.05",
    }
    env.update(extra)
    return env


@pytest_asyncio.fixture
async def mongo_client(infra: Endpoints) -> AsyncIterator[Any]:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()
