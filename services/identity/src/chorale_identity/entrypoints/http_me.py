"""« Mon compte »: profile, password, deactivation, second factor, « Mes rattachements »."""

from __future__ import annotations

from fastapi import APIRouter, Request

from chorale_identity.domain.accounts import UserAccount, to_view
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.entrypoints.deps import Deps
from chorale_identity.entrypoints.schemas import (
    ContactEmailBody,
    PasswordChangeBody,
    ProfilePatch,
    ReauthBody,
    TokenBody,
    TotpCodeBody,
    TotpDisableBody,
    secret,
)
from chorale_identity.service_layer import (
    contact_email,
    invitations,
    my_account,
    passwords,
    rattachements,
)
from chorale_identity.service_layer.events import Cause
from chorale_identity.service_layer.reauthentication import Proof

_PROFILE_FIELDS = {
    "prenom": "prenom",
    "nom": "nom",
    "telephone": "telephone",
    "mobile": "mobile",
}


def view(account: UserAccount) -> dict:
    return to_view(account).model_dump(mode="json")


def proof(body: ReauthBody) -> Proof:
    return Proof(body.currentPassword.get_secret_value(), secret(body.totp))


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/me", tags=["mon compte"])
    ctx = deps.ctx

    def reauth_limits(request: Request, args: dict) -> None:
        deps.throttle.reauthentication(request, args["account"].id)

    @router.get("", summary="Mon compte")
    async def me(account: UserAccount = deps.user) -> dict:
        return view(account)

    @router.patch("", summary="Modifier mon compte")
    async def update(
        body: ProfilePatch, account: UserAccount = deps.user, cause: Cause = deps.cause
    ) -> dict:
        sent = body.model_dump(exclude_unset=True)
        if "contactEmail" in sent:
            raise DomainError(ErrorCode.CONTACT_EMAIL_NEEDS_CONFIRMATION)
        changes = {_PROFILE_FIELDS[k]: v for k, v in sent.items()}
        for phone in ("telephone", "mobile"):  # null or "" clears a phone
            if phone in changes and changes[phone] is None:
                changes[phone] = ""
        changes = {k: v for k, v in changes.items() if v is not None}
        return view(await my_account.update_profile(ctx, account.id, changes, cause))

    @router.post(
        "/password",
        status_code=204,
        summary="Changer mon mot de passe",
    )
    @deps.argon2_route(reauth_limits)
    async def change_password(
        body: PasswordChangeBody, request: Request, account: UserAccount = deps.user
    ) -> None:
        await passwords.change_password(
            ctx, account, proof(body), body.newPassword.get_secret_value()
        )

    @router.post("/deactivate", summary="Désactiver mon compte")
    @deps.argon2_route(reauth_limits)
    async def deactivate(
        body: ReauthBody,
        request: Request,
        account: UserAccount = deps.user,
        cause: Cause = deps.cause,
    ) -> dict:
        return view(await my_account.deactivate(ctx, account, proof(body), cause))

    @router.post(
        "/contact-email",
        status_code=202,
        summary="Changer mon adresse de contact (confirmée par un lien envoyé à la nouvelle)",
    )
    @deps.argon2_route(reauth_limits)
    async def change_contact_email(
        body: ContactEmailBody,
        request: Request,
        account: UserAccount = deps.user,
        cause: Cause = deps.cause,
    ) -> dict:
        return view(
            await contact_email.request_change(
                ctx, account.id, body.contactEmail, proof(body), cause
            )
        )

    @router.post("/contact-email/confirm", summary="Confirmer ma nouvelle adresse de contact")
    async def confirm_contact_email(
        body: TokenBody, account: UserAccount = deps.user, cause: Cause = deps.cause
    ) -> dict:
        token = secret(body.token) or ""
        return view(await contact_email.confirm(ctx, account.id, token, cause))

    @router.post(
        "/totp",
        summary="Commencer l'activation d'un second facteur (TOTP)",
    )
    @deps.argon2_route(reauth_limits)
    async def start_totp(
        body: ReauthBody, request: Request, account: UserAccount = deps.user
    ) -> dict:
        updated, uri = await my_account.start_totp(ctx, account.id, proof(body))
        assert updated.totp is not None
        # Shown once, to be scanned (QR code of the URI) or typed into the authenticator app.
        return {"otpauthUri": uri, "secret": updated.totp.secret, "confirmed": False}

    @router.post("/totp/confirm", summary="Confirmer le second facteur avec un premier code")
    async def confirm_totp(body: TotpCodeBody, account: UserAccount = deps.user) -> dict:
        return view(await my_account.confirm_totp(ctx, account.id, body.code.get_secret_value()))

    @router.post(
        "/totp/disable",
        summary="Retirer le second facteur (mot de passe et code)",
    )
    @deps.argon2_route(reauth_limits)
    async def disable_totp(
        body: TotpDisableBody, request: Request, account: UserAccount = deps.user
    ) -> dict:
        checked = Proof(body.currentPassword.get_secret_value(), body.code.get_secret_value())
        return view(await my_account.disable_totp(ctx, account.id, checked))

    @router.get("/invitations", summary="Mes invitations à rejoindre une structure")
    async def my_invitations(account: UserAccount = deps.user) -> dict:
        return {"invitations": await invitations.mine(ctx, account)}

    @router.get("/rattachements", summary="Mes rattachements")
    async def mine(account: UserAccount = deps.user) -> dict:
        return {"rattachements": await rattachements.mine(ctx, account.id)}

    return router
