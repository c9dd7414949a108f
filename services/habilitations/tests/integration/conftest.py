"""The habilitations service in-process on the real broker and database, tokens from a test key,
and identity's events published by the test (rattachements, gestionnaires, deactivations)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from chorale_contracts import new_envelope, topic_name
from chorale_contracts.events import identity
from chorale_contracts.registry import EventPayload
from chorale_habilitations.bootstrap import build_app
from chorale_habilitations.settings import HabilitationsSettings
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import Namespace, settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_runtime.testing.tokens import TokenFactory


def _key(payload: EventPayload) -> str:
    """The Kafka key the contract gives each identity event."""
    if isinstance(payload, identity._RattachementEvent):
        return payload.rattachementId
    if isinstance(payload, identity._UserEvent):
        return payload.userId
    return payload.structure  # gestionnaire.*


@dataclass
class Habil:
    """A running habilitations service and what a test drives it with."""

    base: str
    infra: Any
    namespace: Namespace
    tokens: TokenFactory
    http: httpx.AsyncClient
    producer: AIOKafkaProducer
    rattachements: dict[tuple[str, str, str | None], str] = field(default_factory=dict)

    @staticmethod
    def new_structure() -> str:
        return "S" + uuid.uuid4().hex[:13].upper()

    @staticmethod
    def new_user(prefix: str = "u") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def as_user(self, user_id: str) -> dict[str, str]:
        return self.tokens.headers(user_id)

    async def publish(self, *payloads: EventPayload) -> None:
        for payload in payloads:
            envelope = new_envelope(payload, key=_key(payload), producer="identity")
            await self.producer.send_and_wait(
                topic_name(payload.topic, self.namespace.topic_prefix),
                envelope.to_bytes(), key=envelope.key.encode(),
            )

    async def attach(self, user: str, structure: str, service: str | None = None) -> str:
        rid = str(uuid.uuid4())
        self.rattachements[(user, structure, service)] = rid
        await self.publish(identity.RattachementApproved(
            rattachementId=rid, userId=user, structure=structure, codeService=service,
            decidedBy="gp-test"))
        return rid

    async def detach(self, user: str, structure: str, service: str | None = None) -> None:
        rid = self.rattachements[(user, structure, service)]
        await self.publish(identity.RattachementDetached(
            rattachementId=rid, userId=user, structure=structure, codeService=service,
            detachedBy=user))

    async def designate(self, structure: str, user: str, previous: str | None = None) -> None:
        await self.publish(identity.GestionnaireDesignated(
            structure=structure, userId=user, previousUserId=previous, designatedBy="op"))

    async def structure_with_gp(self, *users: str) -> tuple[str, str]:
        """A new structure, its GP (attached, role known to the read model) and `users`
        attached with their default grants."""
        structure, gp = self.new_structure(), self.new_user("gp")
        await self.designate(structure, gp)
        for user in (gp, *users):
            await self.attach(user, structure)
        for user in users:
            await self.wait_grants(user, 12)
        await self.wait_decision(True, gp, structure, "ORGANISATION", "MODIFICATION")
        return structure, gp

    async def grants(self, user: str, **filters: str) -> list[dict]:
        """« Mes habilitations » of `user`."""
        r = await self.http.get(f"{self.base}/v1/me/habilitations", params=filters,
                                headers=self.as_user(user))
        assert r.status_code == 200, r.text
        return r.json()["habilitations"]

    async def wait_grants(self, user: str, count: int, timeout: float = 30, **filters: str):
        async def enough():
            found = await self.grants(user, **filters)
            return (found,) if len(found) == count else None  # truthy even when empty

        (found,) = await eventually(enough, timeout=timeout)
        return found

    async def decide(self, user: str, structure: str, application: str, mode: str,
                     code_service: str | None = None) -> dict:
        params = {"userId": user, "structure": structure, "application": application,
                  "mode": mode}
        if code_service:
            params["codeService"] = code_service
        r = await self.http.get(f"{self.base}/v1/decisions", params=params,
                                headers=self.tokens.operator())
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_decision(self, allowed: bool, *args: Any, timeout: float = 60) -> dict:
        async def settled():
            d = await self.decide(*args)
            return d if d["allowed"] is allowed else None

        return await eventually(settled, timeout=timeout)


@contextlib.asynccontextmanager
async def running(infra: Any, namespace: Namespace, **overrides: Any) -> AsyncIterator[Habil]:
    tokens = TokenFactory()
    settings = settings_for(HabilitationsSettings, infra, namespace, **overrides)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    app = build_app(settings, verifier=tokens.verifier())
    try:
        async with serve_in_process(app) as base, httpx.AsyncClient(timeout=30) as http:
            yield Habil(base, infra, namespace, tokens, http, producer)
            # Stop with nothing left to relay: OutboxRelay.run's asyncio.wait_for (Python
            # 3.11) can swallow the cancellation if a wake-up lands with it, hanging the stop.
            await app.state.runtime.relay.wait_idle(10)
    finally:
        await producer.stop()


@pytest_asyncio.fixture
async def habil(infra, namespace) -> AsyncIterator[Habil]:
    async with running(infra, namespace) as h:
        yield h


@pytest_asyncio.fixture(scope="module")
async def habil_shared(infra) -> AsyncIterator[Habil]:
    """One service for a whole module (the decision matrix)."""
    async with running(infra, Namespace("t" + uuid.uuid4().hex[:10])) as h:
        yield h


