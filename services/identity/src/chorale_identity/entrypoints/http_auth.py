"""Sign-in, tokens, password reset, and the JWKS other services verify tokens with."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from chorale_identity.entrypoints.deps import Deps, after_answer
from chorale_identity.entrypoints.schemas import (
    ClientCredentialsBody,
    EmailBody,
    LoginBody,
    RefreshBody,
    ResetConfirmBody,
    secret,
)
from chorale_identity.service_layer import passwords, sessions
from chorale_identity.service_layer.events import Cause

RESET_REQUESTED = {
    "message": "Si un compte actif correspond à cette adresse, un lien de réinitialisation "
    "va lui être envoyé. Il est valable 60 minutes."
}
JWKS_MAX_AGE = 60  # seconds; a new key is published before it signs (signing_key_publish_seconds)


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(tags=["authentification"])
    ctx = deps.ctx

    def sign_in_limits(request: Request, args: dict) -> None:
        deps.throttle.sign_in(request, args["body"].email)

    def reset_confirm_limits(request: Request, _args: dict) -> None:
        deps.throttle.mail(request, None)

    @router.post("/v1/auth/login", summary="Se connecter")
    @deps.argon2_route(sign_in_limits)
    async def login(body: LoginBody, request: Request) -> dict:
        issued = await sessions.sign_in(
            ctx, body.email, body.password.get_secret_value(), secret(body.totp)
        )
        return issued.body()

    @router.post("/v1/auth/refresh", summary="Renouveler le jeton d'accès")
    async def refresh(body: RefreshBody) -> dict:
        return (await sessions.refresh(ctx, body.refreshToken.get_secret_value())).body()

    @router.post("/v1/auth/logout", status_code=204, summary="Se déconnecter")
    async def logout(body: RefreshBody) -> Response:
        await sessions.logout(ctx, body.refreshToken.get_secret_value())
        return Response(status_code=204)

    @router.post("/v1/auth/password-reset", status_code=202, summary="Mot de passe oublié")
    async def reset(
        body: EmailBody, request: Request, tasks: BackgroundTasks, cause: Cause = deps.cause
    ) -> dict:
        deps.throttle.mail(request, body.email)
        tasks.add_task(after_answer, passwords.request_reset, ctx, body.email, cause)
        return RESET_REQUESTED

    @router.post(
        "/v1/auth/password-reset/confirm",
        summary="Choisir un nouveau mot de passe",
    )
    @deps.argon2_route(reset_confirm_limits)
    async def confirm(body: ResetConfirmBody, request: Request) -> dict:
        await passwords.confirm_reset(
            ctx, body.token.get_secret_value(), body.newPassword.get_secret_value()
        )
        return {"message": "Le mot de passe a été modifié. Reconnectez-vous."}

    @router.post("/v1/auth/token", summary="Jeton d'un compte technique (client credentials)")
    async def token(body: ClientCredentialsBody) -> dict:
        issued = await sessions.client_credentials(
            ctx, body.clientId, body.clientSecret.get_secret_value()
        )
        return issued.body()

    @router.get("/.well-known/jwks.json", summary="Clés publiques de signature (JWKS)")
    async def jwks(response: Response) -> dict:
        response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
        return (await ctx.keys.keyset()).jwks()

    return router
