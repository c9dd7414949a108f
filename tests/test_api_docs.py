"""Every service's /docs works without internet and can send a token: the page references
only same-origin assets, which the service serves; the OpenAPI document declares the bearer
scheme and every operation that needs a token references it.

Apps are built, not started (no infrastructure needed: the documents do not depend on it)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import httpx
import pytest

from chorale_cli.services import SERVICES
from chorale_runtime.testing.tokens import TokenFactory

TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# The services with a JSON API (the portal serves pages), from the registry.
API_SERVICES = [s.name for s in SERVICES.values() if s.operations]
# Folders a service writes to: in the test's temporary folder.
FOLDERS = {
    "structures": lambda tmp: {"import_dir": tmp / "imports"},
    "invoice-intake": lambda tmp: {"edi_root": tmp / "edi", "archive_dir": tmp / "archive"},
    "invoices": lambda tmp: {"edi_root": tmp / "edi"},
}


def _apps(tmp: Path):
    verifier = TokenFactory().verifier()
    for name in API_SERVICES:
        service = SERVICES[name]
        build_app = importlib.import_module(f"{service.module}.bootstrap").build_app
        settings = service.settings_class()(**FOLDERS.get(name, lambda _: {})(tmp))
        yield name, build_app(settings, verifier=verifier)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return dict(_apps(tmp_path_factory.mktemp("apps")))


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


@pytest.mark.parametrize("service", API_SERVICES)
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


@pytest.mark.parametrize("service", API_SERVICES)
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
