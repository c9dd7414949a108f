"""Every service's /docs works without internet and can send a token: the page references
only same-origin assets, which the service serves; the OpenAPI document declares the bearer
scheme and every operation that needs a token references it.

Apps are built, not started (no infrastructure needed: the documents do not depend on it)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from chorale_habilitations.bootstrap import build_app as habilitations_app
from chorale_habilitations.settings import HabilitationsSettings
from chorale_identity.bootstrap import build_app as identity_app
from chorale_identity.settings import IdentitySettings
from chorale_intake.bootstrap import build_app as intake_app
from chorale_intake.settings import IntakeSettings
from chorale_notifications.bootstrap import build_app as notifications_app
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.testing.tokens import TokenFactory
from chorale_structures.bootstrap import build_app as structures_app
from chorale_structures.settings import StructuresSettings

TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _apps(tmp: Path):
    verifier = TokenFactory().verifier()
    yield "structures", structures_app(StructuresSettings(import_dir=tmp / "imports"),
                                       verifier=verifier)
    yield "identity", identity_app(IdentitySettings(), verifier=verifier)
    yield "habilitations", habilitations_app(HabilitationsSettings(), verifier=verifier)
    yield "invoice-intake", intake_app(IntakeSettings(edi_root=tmp / "edi",
                                                      archive_dir=tmp / "archive"),
                                       verifier=verifier)
    yield "notifications", notifications_app(NotificationsSettings(), verifier=verifier)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return dict(_apps(tmp_path_factory.mktemp("apps")))


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


@pytest.mark.parametrize("service", ["structures", "identity", "habilitations",
                                     "invoice-intake", "notifications"])
async def test_docs_are_served_from_the_service_itself(apps, service):
    async with _client(apps[service]) as client:
        page = await client.get("/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        urls += re.findall(r"url: '([^']+)'", page.text)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        assert "https://" not in page.text and "http://" not in page.text
        assert '"validatorUrl": null' in page.text
        for url in urls:
            answer = await client.get(url)
            assert answer.status_code == 200, url
            suffix = Path(url).suffix
            if suffix in TYPES:
                assert answer.headers["content-type"].startswith(TYPES[suffix]), url
        assert (await client.get("/redoc")).status_code == 404  # ReDoc only exists on a CDN


@pytest.mark.parametrize("service", ["structures", "identity", "habilitations",
                                     "invoice-intake", "notifications"])
async def test_openapi_declares_the_bearer_scheme_on_protected_operations(apps, service):
    async with _client(apps[service]) as client:
        document = (await client.get("/openapi.json")).json()
        scheme = document["components"]["securitySchemes"]["bearer"]
        assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == (
            "http", "bearer", "JWT")
        secured, open_ops = [], []
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                target = secured if {"bearer": []} in operation.get("security", []) else open_ops
                target.append((method.upper(), path))
        assert secured, "no protected operation references the scheme"
        # An operation that does not declare the scheme really answers without a token
        # (401 would mean a protected route the document presents as open).
        for method, path in open_ops:
            if "{" in path or method != "GET" or path in ("/health", "/ready"):
                continue
            answer = await client.request(method, path)
            assert answer.status_code != 401, (method, path)
        # And one that declares it refuses a call without a token.
        method, path = next((m, p) for m, p in secured if "{" not in p)
        answer = await client.request(method, path)
        assert answer.status_code == 401 and answer.json()["code"] == "UNAUTHENTICATED"
