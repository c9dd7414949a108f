"""Endpoints for other Chorale services only, authenticated by a service credential (not a
person's token): notifications mints the usable link of a verification or reset mail at the
moment it sends it.

The credential is a random secret given to notifications (``CHORALE_MAIL_LINKS_CLIENT_SECRET``);
identity is configured with its SHA-256 only (``CHORALE_MAIL_LINKS_CLIENT_SECRET_SHA256``), so
its configuration holds nothing that would let anyone mint links. A 256-bit random secret
needs no slow hash; the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Depends, Request, Response

from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.entrypoints.deps import Deps
from chorale_identity.service_layer import mail_links
from chorale_runtime.auth import bearer_token


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(tags=["interne"])
    ctx = deps.ctx
    expected = ctx.settings.mail_links_client_secret_sha256

    async def mail_links_client(request: Request) -> None:
        try:
            presented = secret_digest(bearer_token(request))
        except Exception:
            raise DomainError(ErrorCode.SERVICE_UNAUTHENTICATED) from None
        if expected is None or not hmac.compare_digest(presented, expected.lower()):
            raise DomainError(ErrorCode.SERVICE_UNAUTHENTICATED)

    @router.post(
        "/internal/v1/mail-links/{link_id}/token",
        summary="Lien utilisable d'un courriel de vérification ou de réinitialisation",
        description="Réservé au service notifications (secret de service). Chaque appel "
        "produit un nouveau jeton ; le précédent cesse de fonctionner.",
        dependencies=[Depends(mail_links_client)],
    )
    async def mint(link_id: str, response: Response) -> dict:
        url, expires_at = await mail_links.mint_link(ctx, link_id)
        response.headers["Cache-Control"] = "no-store"
        return {"link": url, "expiresAt": expires_at.isoformat()}

    return router
