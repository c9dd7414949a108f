"""Registration, e-mail verification, and the operators' user search."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from chorale_identity.domain.accounts import to_view
from chorale_identity.domain.validation import normalise_email
from chorale_identity.entrypoints.deps import Deps, after_answer
from chorale_identity.entrypoints.schemas import EmailBody, RegisterBody, TokenBody, secret
from chorale_identity.service_layer import registration
from chorale_identity.service_layer.events import Cause
from chorale_runtime.auth import Principal
from chorale_runtime.errors import ApiError

# The same answer whether or not the address has an account (no enumeration).
REGISTERED = {
    "message": "Si cette adresse peut être utilisée, un courriel de confirmation va lui être "
    "envoyé. Le lien est valable 60 minutes."
}
RESENT = {
    "message": "Si un compte attend la confirmation de cette adresse, un nouveau lien va lui "
    "être envoyé."
}


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/users", tags=["comptes"])
    ctx = deps.ctx

    def registration_limits(request: Request, args: dict) -> None:
        deps.throttle.registration(request, args["body"].email)

    @router.post(
        "",
        status_code=202,
        summary="Créer un compte utilisateur",
    )
    @deps.argon2_route(registration_limits)
    async def register(
        body: RegisterBody, request: Request, tasks: BackgroundTasks, cause: Cause = deps.cause
    ) -> dict:
        # Validation and hashing now (refusals are about the input, never the address); the
        # database work after the answer, so its duration says nothing about the address.
        account = await registration.prepare(
            ctx,
            registration.Registration(
                email=body.email,
                password=body.password.get_secret_value(),
                prenom=body.prenom,
                nom=body.nom,
                contact_email=body.contactEmail,
                telephone=body.telephone,
                mobile=body.mobile,
            ),
        )
        tasks.add_task(after_answer, registration.store, ctx, account, cause)
        return REGISTERED

    @router.post("/verify", summary="Confirmer l'adresse électronique (lien reçu)")
    async def verify(body: TokenBody, cause: Cause = deps.cause) -> dict:
        account = await registration.verify_email(ctx, secret(body.token) or "", cause)
        return {"message": "Adresse électronique confirmée.", "status": account.status.value}

    @router.post("/verification/resend", status_code=202, summary="Renvoyer le lien")
    async def resend(
        body: EmailBody, request: Request, tasks: BackgroundTasks, cause: Cause = deps.cause
    ) -> dict:
        deps.throttle.mail(request, body.email)
        # After the answer, so its timing says nothing about the address either.
        tasks.add_task(after_answer, registration.resend_verification, ctx, body.email, cause)
        return RESENT

    @router.get("", summary="Rechercher un utilisateur par adresse (opérateurs)")
    async def search(email: str, principal: Principal = deps.principal) -> dict:
        if not principal.is_operator:
            raise ApiError("FORBIDDEN", "Action réservée aux opérateurs de la plateforme.", 403)
        found = await ctx.accounts.by_login(normalise_email(email))
        return {"utilisateurs": [to_view(found.value).model_dump(mode="json")] if found else []}

    return router
