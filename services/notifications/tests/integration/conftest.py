"""Fixtures of the notifications integration tests: a real SMTP server (aiosmtpd) whose
received mails the tests inspect, a Kafka publisher of upstream events, and the service."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import secrets
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chorale_contracts import Envelope
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_contracts.events.identity import UserRegistered
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_notifications.bootstrap import build_app
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.testing.kafka_publisher import EventPublisher, event_publisher
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import free_port, serve_in_process
from chorale_runtime.testing.tokens import TokenFactory


@dataclass
class Received:
    to: list[str]
    subject: str
    text: str
    html: str
    message_id: str
    category: str


@dataclass
class Catcher:
    """aiosmtpd handler: keeps every accepted mail; can slow down or refuse recipients."""

    messages: list[Received] = field(default_factory=list)
    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        with self.lock:
            self.messages.append(Received(
                to=list(envelope.rcpt_tos), subject=str(msg["Subject"]),
                text=text.get_content() if text else "", html=html.get_content() if html else "",
                message_id=str(msg["Message-ID"]), category=str(msg["X-Chorale-Category"]),
            ))
        return "250 2.0.0 Message accepté"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address in m.to]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.catcher = Catcher()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


class Publisher(EventPublisher):
    async def user(self, user_id: str, prenom: str = "Prénom", nom: str = "Nom") -> Envelope:
        return await self(UserRegistered(
            userId=user_id, loginEmail=f"{user_id}@login.test", contactEmail=email_of(user_id),
            prenom=prenom, nom=nom,
        ), user_id)

    async def grant(self, user_id: str, structure: str, application: str, mode: str,
                    code_service: str | None = None) -> Envelope:
        return await self(HabilitationGranted(
            grantId=str(uuid.uuid4()), userId=user_id, structure=structure,
            codeService=code_service, application=application, mode=mode,
        ), user_id)


def email_of(user_id: str) -> str:
    return f"{user_id}@mail.test"


def made_available(number: str, destinataire: str, code_service: str | None = None,
                   **fields: Any) -> InvoiceMadeAvailable:
    """An `invoice.made_available` for `destinataire` (invoice id and flow from `number`)."""
    return InvoiceMadeAvailable(**{
        "invoiceId": f"inv-{number}", "numeroFluxDepot": f"FLX-{number}",
        "statut": "MISE_A_DISPOSITION", "destinataire": destinataire,
        "codeService": code_service, "fournisseur": "44306184100047",
        "numeroFacture": number, "dateFacture": date(2026, 11, 2),
        "dateDepot": date(2026, 11, 3), **fields,
    })


@pytest_asyncio.fixture
async def publish(infra: Any, namespace: Any) -> AsyncIterator[Publisher]:
    async with event_publisher(Publisher, infra, namespace) as publisher:
        yield publisher


@pytest.fixture
def tokens() -> TokenFactory:
    return TokenFactory()


TEST_SETTINGS = {
    "delivery_backoff": 0.2,
    "delivery_backoff_max": 1.0,
    "dispatch_interval": 0.2,
    "habilitations_digest_seconds": 0.5,
    "portal_url": "https://portail.test",
    "notice_frequency": "IMMEDIAT",  # one message per notice, unless a test groups them
}


MAIL_LINKS_SECRET = "secret-de-service-" + uuid.uuid4().hex


@dataclass
class IdentityLinks:
    """Identity's mail-link endpoint as notifications sees it over HTTP: mints a new token per
    call (remembered for the tests), answers 410 for `gone` links, 503 `unavailable` times."""

    minted: dict[str, list[str]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    unavailable: int = 0
    base: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/internal/v1/mail-links/{link_id}/token")
        async def mint(link_id: str, request: Request) -> Any:
            if request.headers.get("authorization") != f"Bearer {MAIL_LINKS_SECRET}":
                return JSONResponse({"code": "SERVICE_UNAUTHENTICATED"}, status_code=401)
            if self.unavailable:
                self.unavailable -= 1
                return JSONResponse({"code": "INTERNAL_ERROR"}, status_code=503)
            if link_id in self.gone:
                return JSONResponse({"code": "MAIL_LINK_UNAVAILABLE"}, status_code=410)
            token = f"{link_id}.{secrets.token_urlsafe(16)}"
            self.minted.setdefault(link_id, []).append(token)
            return {"link": f"https://portail.test/compte/verification?token={token}",
                    "expiresAt": "2099-01-01T00:00:00+00:00"}

        return app


@pytest_asyncio.fixture
async def identity_links() -> AsyncIterator[IdentityLinks]:
    links = IdentityLinks()
    async with serve_in_process(links.app()) as base:
        links.base = base
        yield links


@pytest.fixture
def notifications(infra: Any, namespace: Any, smtp: SmtpServer, tokens: TokenFactory,
                  identity_links: IdentityLinks) -> Any:
    """`async with notifications(**overrides) as base_url:` runs the service in-process."""

    def run(**overrides: Any) -> contextlib.AbstractAsyncContextManager[str]:
        settings = settings_for(NotificationsSettings, infra, namespace, smtp_port=smtp.port,
                                identity_url=identity_links.base,
                                mail_links_client_secret=MAIL_LINKS_SECRET,
                                **{**TEST_SETTINGS, **overrides})
        return serve_in_process(build_app(settings, verifier=tokens.verifier()))

    return run
