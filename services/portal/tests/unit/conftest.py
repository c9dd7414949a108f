"""Unit-test doubles of the portal's surroundings: the services' APIs (an httpx transport
answering from a table of routes, recording every call) and the session store (a dict)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from chorale_portal.bootstrap import build_app
from chorale_portal.settings import PortalSettings

SERVICE_PORTS = {8001: "structures", 8002: "identity", 8003: "habilitations",
                 8004: "invoice-intake", 8005: "notifications", 8006: "invoices"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ME = {"id": "u-1", "loginEmail": "jeanne@ville.fr", "prenom": "Jeanne", "nom": "Martin",
      "roles": [], "totpEnabled": False, "contactEmail": "jeanne@ville.fr",
      "contactEmailEnAttente": None, "telephone": None, "mobile": None}
LOGIN = {"accessToken": "at-1", "refreshToken": "rt-secret-1", "tokenType": "Bearer",
         "expiresIn": 900}
STRUCTURE = {"identifiant": "21100001500017", "typeIdentifiant": "SIRET",
             "raisonSociale": "Mairie de Chaource", "typeStructure": "PUBLIQUE",
             "statut": "ACTIVE", "parametres": {
                 "codeServiceDoitEtreRenseigne": False, "numeroEJDoitEtreRenseigne": False,
                 "gestionNumeroEJOuCodeService": False,
                 "statutMiseEnPaiementNestPasRemonte": False, "recevoirDonneesViaEDI": False,
                 "presenceMOA": "SANS_MOA"}, "nombreServices": 1, "version": 1}


@dataclass
class Call:
    service: str
    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = httpx.Response | Callable[[Call], httpx.Response]


@dataclass
class FakeServices:
    routes: dict[tuple[str, str], Answer] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    down: bool = False

    def __post_init__(self) -> None:
        self.on("POST", "/v1/auth/login", 200, LOGIN)
        self.on("GET", "/v1/me", 200, ME)
        self.on("POST", "/v1/auth/logout", 204)
        self.on("GET", f"/v1/structures/{STRUCTURE['identifiant']}", 200, STRUCTURE)
        # The header of every signed-in page: the person's rights and unread messages.
        self.on("GET", "/v1/me/habilitations", 200, {"habilitations": []})
        self.on("GET", "/v1/me/messages/unread-count", 200, {"nonLus": 0})

    def on(self, method: str, path: str, status: int | Answer, body: Any = None) -> None:
        if isinstance(status, int):
            content = json.dumps(body).encode() if body is not None else b""
            self.routes[(method, path)] = httpx.Response(
                status, content=content, headers={"content-type": "application/json"})
        else:
            self.routes[(method, path)] = status

    def refuse(self, method: str, path: str, status: int, code: str, message: str,
               details: dict | None = None) -> None:
        self.on(method, path, status, {"code": code, "message": message,
                                       "details": details or {}})

    def made(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        service = SERVICE_PORTS[request.url.port]
        call = Call(service, request.method, request.url.path, dict(request.url.params),
                    request.headers, await request.aread())
        self.calls.append(call)
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"code": "NOT_FOUND", "message": "Introuvable."})
        return answer(call) if callable(answer) else answer


class MemorySessionStore:
    def __init__(self) -> None:
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}

    async def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        found = self.collections.get(collection, {}).get(record_id)
        return dict(found) if found else None

    async def put(self, collection: str, document: dict[str, Any]) -> None:
        self.collections.setdefault(collection, {})[document["_id"]] = dict(document)

    async def update(self, collection: str, record_id: str, fields: dict[str, Any]) -> None:
        if record_id in self.collections.get(collection, {}):
            self.collections[collection][record_id].update(fields)

    async def delete(self, collection: str, record_id: str) -> None:
        self.collections.get(collection, {}).pop(record_id, None)

    async def purge_expired(self, now: datetime) -> int:
        return 0


class Browser:
    """An httpx client on the portal app that keeps cookies and fills in the CSRF token
    from the last page, as a browser submitting the page's form would."""

    def __init__(self, services: FakeServices | None = None, *,
                 address: tuple[str, int] = ("127.0.0.1", 123), **settings: Any):
        self.services = services or FakeServices()
        self.store = MemorySessionStore()
        app = build_app(PortalSettings(**settings), configure_logging=False,
                        transport=httpx.MockTransport(self.services.handle), store=self.store)
        # `address`: the socket peer the portal sees (the browser, or a proxy before it)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=address),
                                        base_url="http://portail.test")
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None, *,
                   csrf: bool = True, **kwargs: Any) -> httpx.Response:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        response = await self.client.post(path, data=data, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def sign_in(self) -> httpx.Response:
        await self.get("/connexion")
        return await self.post("/connexion", {"email": "jeanne@ville.fr", "password": "x"})


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture
def make_browser() -> type[Browser]:
    """For a test that needs its own settings or socket peer: `make_browser(address=…)`."""
    return Browser
