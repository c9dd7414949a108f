"""Identity running in-process on the real broker and database, with a clock tests can move,
a reader of ``chorale.identity.v1`` (the "mailbox": verification links travel in events), and
a publisher of the other services' events (structures, habilitations)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from stdnum import luhn

from chorale_contracts import Envelope, Topic, new_envelope, topic_name
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_contracts.events.structures import ServiceCreated, StructureCreated
from chorale_contracts.registry import EventPayload
from chorale_identity.bootstrap import build_app
from chorale_identity.service_layer.context import IdentityContext
from chorale_identity.settings import IdentitySettings
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_runtime.testing.tokens import TokenFactory

PASSWORD = "Correct-Horse-42!"
# What notifications presents to mint the usable link of a mail (identity knows its SHA-256).
MAIL_LINKS_SECRET = "test-mail-links-secret-" + uuid.uuid4().hex
FAST = {
    "mail_links_client_secret_sha256": hashlib.sha256(MAIL_LINKS_SECRET.encode()).hexdigest(),
    "argon2_time_cost": 1,
    "argon2_memory_kib": 8,
    "argon2_insecure_for_tests": True,
    # Tests sign in and register far more often than a person from one address: the limits
    # have their own test (test_identity_flooding_http.py).
    **{
        f"rate_{name}": "0/1"
        for name in (
            "sign_in_per_address",
            "sign_in_per_account",
            "registration_per_address",
            "registration_per_account",
            "mail_per_address",
            "mail_per_account",
            "reauth_per_account",
        )
    },
    "rate_concurrent_per_address": 0,
    "link_resend_cooldown_seconds": 0,
    "signing_key_refresh_seconds": 0.5,
}


class MovableClock:
    """Real time plus an offset the test moves forward (lockout hour, token expiry)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def make_siret(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    siren = "".join(str(rng.randint(0, 9)) for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    base = siren + "".join(str(rng.randint(0, 9)) for _ in range(4))
    return base + luhn.calc_check_digit(base)


class TopicWatcher:
    """Everything published on one topic since the test began, read as a consumer would."""

    def __init__(self, bootstrap: str, topic: str):
        self.events: list[Envelope] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"watch-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for record in self._consumer:
            self.events.append(Envelope.parse_incoming(record.value))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def wait_for(
        self, predicate: Callable[[Envelope], bool], count: int = 1, timeout: float = 30
    ) -> list[Envelope]:
        async def found() -> list[Envelope] | None:
            matching = [e for e in self.events if predicate(e)]
            return matching if len(matching) >= count else None

        return await eventually(found, timeout=timeout)

    def of_type(self, event_type: str) -> list[Envelope]:
        return [e for e in self.events if e.event_type == event_type]


@dataclass
class User:
    id: str
    email: str
    access: str
    refresh: str
    verification_token: str = ""  # the link it was verified with (minted once)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class Identity:
    base: str
    http: httpx.AsyncClient
    ctx: IdentityContext
    clock: MovableClock
    mailbox: TopicWatcher
    producer: AIOKafkaProducer
    prefix: str
    tokens: TokenFactory

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.post(f"{self.base}{path}", json=body, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(f"{self.base}{path}", **kw)

    async def register(self, email: str, password: str = PASSWORD, **extra: Any):
        body = {"email": email, "password": password, "prenom": "Jeanne", "nom": "Martin"}
        return await self.post("/v1/users", {**body, **extra})

    async def link_token(self, email: str, purpose: str = "EMAIL_VERIFICATION", nth: int = 1):
        def mine(e: Envelope) -> bool:
            return (
                e.event_type == "user.verification_requested"
                and e.payload["contactEmail"] == email.lower()
                and e.payload["purpose"] == purpose
            )

        found = await self.mailbox.wait_for(mine, count=nth)
        minted = await self.mint(found[nth - 1].payload["linkId"])
        assert minted.status_code == 200, minted.text
        return parse_qs(urlparse(minted.json()["link"]).query)["token"][0]

    async def mint(self, link_id: str, secret: str = MAIL_LINKS_SECRET) -> httpx.Response:
        """What notifications does when it sends the mail of ``link_id``."""
        return await self.post(
            f"/internal/v1/mail-links/{link_id}/token",
            headers={"Authorization": f"Bearer {secret}"},
        )

    async def login(self, email: str, password: str = PASSWORD, **extra: Any):
        return await self.post("/v1/auth/login", {"email": email, "password": password, **extra})

    async def user(self, email: str | None = None, password: str = PASSWORD) -> User:
        """A registered, verified, signed-in person."""
        email = email or f"user-{uuid.uuid4().hex[:8]}@exemple.fr"
        assert (await self.register(email, password)).status_code == 202
        link = await self.link_token(email)
        verified = await self.post("/v1/users/verify", {"token": link})
        assert verified.status_code == 200, verified.text
        tokens = (await self.login(email, password)).json()
        me = (await self.get("/v1/me", headers=_bearer(tokens["accessToken"]))).json()
        return User(me["id"], email, tokens["accessToken"], tokens["refreshToken"], link)

    async def publish(self, topic: Topic, payload: EventPayload, key: str) -> Envelope:
        envelope = new_envelope(payload, key=key, producer="test")
        await self.producer.send_and_wait(
            topic_name(topic, self.prefix), envelope.to_bytes(), key=key.encode()
        )
        return envelope

    async def structure(
        self,
        siret: str | None = None,
        *,
        type_structure: str = "PUBLIQUE",
        created_by: str | None = None,
        services: tuple[str, ...] = (),
    ) -> str:
        """Publish ``structure.created`` (and services); wait until identity knows them."""
        siret = siret or make_siret()
        await self.publish(
            Topic.STRUCTURES,
            StructureCreated(
                identifiant=siret,
                typeIdentifiant="SIRET",
                typeStructure=type_structure,
                raisonSociale=f"Raison {siret}",
                createdBy=created_by,
            ),
            siret,
        )
        for code in services:
            await self.publish(
                Topic.STRUCTURES,
                ServiceCreated(
                    identifiant=siret,
                    codeService=code,
                    libelle=f"Service {code}",
                    statut="ACTIF",
                    dateDebutActivation="2024-01-01",
                ),
                siret,
            )
        await eventually(lambda: self.ctx.structures.get(siret), timeout=30)
        for code in services:
            await eventually(lambda c=code: self.ctx.structures.service(siret, c), timeout=30)
        if created_by:
            await eventually(lambda: self.ctx.gestionnaires.get(siret), timeout=30)
        return siret

    async def grant(
        self,
        user_id: str,
        structure: str,
        mode: str = "MODIFICATION",
        code_service: str | None = None,
        application: str = "ORGANISATION",
    ) -> None:
        """Seed a habilitation as the habilitations service would publish it."""
        grant_id = str(uuid.uuid4())
        await self.publish(
            Topic.HABILITATIONS,
            HabilitationGranted(
                grantId=grant_id,
                userId=user_id,
                structure=structure,
                codeService=code_service,
                application=application,
                mode=mode,
            ),
            user_id,
        )

        async def seen() -> bool:
            doc = await self.ctx.accounts.store.col.database["authz_users"].find_one(
                {"_id": user_id}
            )
            return bool(doc and grant_id in (doc.get("grants") or {}))

        await eventually(seen, timeout=30)

    async def invite_and_accept(
        self, by: User, structure: str, member: User, code_service: str | None = None
    ) -> dict:
        """« Rattacher un utilisateur »: the gestionnaire invites, the person accepts."""
        body: dict[str, Any] = {"email": member.email}
        if code_service:
            body["codeService"] = code_service
        invited = await self.post(
            f"/v1/structures/{structure}/rattachements", body, headers=by.headers
        )
        assert invited.status_code == 202, invited.text
        accepted = await self.post(
            f"/v1/invitations/{invited.json()['id']}/accept", headers=member.headers
        )
        assert accepted.status_code == 200, accepted.text
        return accepted.json()

    def operator(self, subject: str = "operator-1") -> dict[str, str]:
        return self.tokens.operator(subject)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def identity_settings(infra, namespace, tmp_path) -> IdentitySettings:
    return settings_for(
        IdentitySettings, infra, namespace, **FAST, secrets_key_file=tmp_path / "secrets.key"
    )


@contextlib.asynccontextmanager
async def running_identity(
    infra, namespace, settings: IdentitySettings, **options: Any
) -> AsyncIterator[Identity]:
    clock = options.pop("clock", None) or MovableClock()
    tokens = TokenFactory()
    app = build_app(settings, clock=clock, verifier=tokens.verifier(), **options)
    mailbox = TopicWatcher(
        infra.kafka_bootstrap, topic_name(Topic.IDENTITY, namespace.topic_prefix)
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    async with serve_in_process(app) as base:
        await mailbox.start()
        await producer.start()
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                yield Identity(
                    base,
                    http,
                    app.state.identity,
                    clock,
                    mailbox,
                    producer,
                    namespace.topic_prefix,
                    tokens,
                )
        finally:
            await producer.stop()
            await mailbox.stop()


@pytest_asyncio.fixture
async def identity(infra, namespace, identity_settings) -> AsyncIterator[Identity]:
    async with running_identity(infra, namespace, identity_settings) as running:
        yield running
