"""Every service's `/docs` (Swagger UI) served from the service itself, and the bearer scheme
its OpenAPI document declares.

FastAPI's default `/docs` page loads Swagger UI's script and CSS from a CDN: on a self-hosted
machine without internet it is blank. The assets are vendored in `static/swagger-ui/` (see its
SOURCE.txt and LICENSE) and served under `/docs/assets/`; the validator badge (another external
call) is off. ReDoc, which only exists from a CDN, is not served.

Routes that need a token depend on `BEARER` (through `Runtime.principal_dependency`), so the
document declares `components.securitySchemes.bearer` (HTTP bearer, JWT) and each protected
operation references it: « Authorize » in `/docs` then sends the token with every call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH = "/docs/assets"

BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="Jeton d'accès délivré par le service identity (POST /v1/auth/login, ou "
    "/v1/auth/token pour un compte technique), envoyé en `Authorization: Bearer <jeton>`.",
    auto_error=False,  # a missing token is the runtime's own 401 UNAUTHENTICATED
)


def install_api_docs(app: FastAPI, title: str) -> None:
    """`/docs` and its assets, same origin only. The app must be built with `docs_url=None`
    and `redoc_url=None`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} — API",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )
