"""One structures service per test module, on the real broker and database, with helpers to
sign in as anybody and to seed the authorization read model through its real topics."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from stdnum import luhn

from chorale_contracts import Envelope, EventPayload, Topic, new_envelope, topic_name
from chorale_contracts.events.common import Application, Mode
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_contracts.events.identity import GestionnaireDesignated
from chorale_runtime.testing.infra import Endpoints
from chorale_runtime.testing.kafka_probe import collect, eventually
from chorale_runtime.testing.plugin import Namespace, settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_runtime.testing.tokens import TokenFactory
from chorale_structures.bootstrap import build_app
from chorale_structures.settings import StructuresSettings

_SEQUENCE = itertools.count()


def new_siret(rng: random.Random | None = None) -> str:
    """A valid SIRET: Luhn-valid SIREN, establishment number, Luhn over the 14 digits."""
    rng = rng or random.Random()
    siren = "".join(str(rng.randint(0, 9)) for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    base = siren + "".join(str(rng.randint(0, 9)) for _ in range(4))
    return base + luhn.calc_check_digit(base)


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: TokenFactory
    namespace: Namespace
    infra: Endpoints
    app: Any

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    def operator(self, subject: str = "operator-1") -> dict[str, str]:
        return self.tokens.operator(subject)

    @staticmethod
    def siret() -> str:
        return new_siret()

    def user(self, subject: str) -> dict[str, str]:
        return self.tokens.headers(subject)

    def technical(self, structure: str) -> dict[str, str]:
        return self.tokens.technical(f"tech-{structure}", structure)

    async def publish(self, topic: Topic, payload: EventPayload, key: str) -> Envelope:
        producer = AIOKafkaProducer(bootstrap_servers=self.infra.kafka_bootstrap)
        await producer.start()
        try:
            envelope = new_envelope(payload, key=key, producer="tests")
            await producer.send_and_wait(
                topic_name(topic, self.namespace.topic_prefix), envelope.to_bytes(),
                key=key.encode(),
            )
            return envelope
        finally:
            await producer.stop()

    async def designate_gp(self, structure: str, user: str) -> None:
        await self.publish(
            Topic.IDENTITY, GestionnaireDesignated(structure=structure, userId=user), structure
        )
        await eventually(
            lambda: self.db["authz_gestionnaires"].find_one({"_id": structure, "userId": user})
        )

    async def grant(self, user: str, structure: str, mode: Mode,
                    application: Application = Application.ORGANISATION,
                    code_service: str | None = None) -> None:
        grant_id = f"g{next(_SEQUENCE)}-{uuid.uuid4().hex[:6]}"
        await self.publish(
            Topic.HABILITATIONS,
            HabilitationGranted(grantId=grant_id, userId=user, structure=structure,
                                codeService=code_service, application=application, mode=mode),
            user,
        )
        await eventually(
            lambda: self.db["authz_users"].find_one({"_id": user, f"grants.{grant_id}": {
                "$exists": True}})
        )

    async def create_private(self, owner: str, **fields: Any) -> str:
        siret = new_siret()
        response = await self.client.post(
            "/v1/structures",
            json={"identifiant": siret, "raisonSociale": f"Fournisseur {siret}", **fields},
            headers=self.user(owner),
        )
        assert response.status_code == 201, response.text
        return siret

    async def create_public(self, **fields: Any) -> str:
        """Through a creation request accepted by an operator, as the platform does."""
        siret = new_siret()
        structure = {"identifiant": siret, "raisonSociale": f"Commune {siret}", **fields}
        submitted = await self.client.post(
            "/v1/demandes", json={"type": "CREATION_STRUCTURE_PUBLIQUE", "structure": structure},
            headers=self.user("agent-public"),
        )
        assert submitted.status_code == 201, submitted.text
        accepted = await self.client.post(
            f"/v1/demandes/{submitted.json()['idDemande']}/acceptation", headers=self.operator()
        )
        assert accepted.status_code == 200, accepted.text
        return siret

    async def events(
        self, topic: Topic, until: Callable[[list[Envelope]], bool], timeout: float = 30
    ) -> list[Envelope]:
        return await collect(
            self.infra.kafka_bootstrap, topic_name(topic, self.namespace.topic_prefix),
            until=until, timeout=timeout,
        )

    async def events_of(
        self, topic: Topic, key: str, until: Callable[[list[Envelope]], bool]
    ) -> list[Envelope]:
        """The events of one structure, once ``until`` holds on them."""
        found = await self.events(topic, lambda evs: until([e for e in evs if e.key == key]))
        return [e for e in found if e.key == key]


@pytest.fixture(scope="module")
def module_namespace() -> Namespace:
    return Namespace("t" + uuid.uuid4().hex[:10])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def api(infra, module_namespace, tmp_path_factory) -> AsyncIterator[Api]:
    tokens = TokenFactory()
    settings = settings_for(
        StructuresSettings, infra, module_namespace,
        import_dir=tmp_path_factory.mktemp("imports"), import_batch_size=7,
    )
    app = build_app(settings, verifier=tokens.verifier())
    async with serve_in_process(app) as base, httpx.AsyncClient(base_url=base,
                                                                 timeout=60) as client:
        yield Api(client, tokens, module_namespace, infra, app)


@pytest.fixture
def make_siret() -> Callable[[], str]:
    return new_siret
