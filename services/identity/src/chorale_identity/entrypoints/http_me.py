"""« Mon compte »: profile, password, deactivation, second factor, « Mes rattachements »."""

from __future__ import annotations

from fastapi import APIRouter

from chorale_identity.domain.accounts import UserAccount, to_view
from chorale_identity.entrypoints.deps import Deps
from chorale_identity.entrypoints.schemas import (
    PasswordBody,
    PasswordChangeBody,
    ProfilePatch,
    TotpCodeBody,
)
from chorale_identity.service_layer import my_account, passwords, rattachements
from chorale_identity.service_layer.events import Cause

_PROFILE_FIELDS = {
    "contactEmail": "contact_email",
    "prenom": "prenom",
    "nom": "nom",
    "telephone": "telephone",
    "mobile": "mobile",
}


def view(account: UserAccount) -> dict:
    return to_view(account).model_dump(mode="json")


def build_router(deps: Deps) -> APIRouter:
    router = APIRouter(prefix="/v1/me", tags=["mon compte"])
    ctx = deps.ctx

    @router.get("", summary="Mon compte")
    async def me(account: UserAccount = deps.user) -> dict:
        return view(account)

    @router.patch("", summary="Modifier mon compte")
    async def update(
        body: ProfilePatch, account: UserAccount = deps.user, cause: Cause = deps.cause
    ) -> dict:
        sent = body.model_dump(exclude_unset=True)
        changes = {_PROFILE_FIELDS[k]: v for k, v in sent.items()}
        for phone in ("telephone", "mobile"):  # null or "" clears a phone
            if phone in changes and changes[phone] is None:
                changes[phone] = ""
        changes = {k: v for k, v in changes.items() if v is not None}
        return view(await my_account.update_profile(ctx, account.id, changes, cause))

    @router.post("/password", status_code=204, summary="Changer mon mot de passe")
    async def change_password(body: PasswordChangeBody, account: UserAccount = deps.user) -> None:
        await passwords.change_password(
            ctx,
            account,
            body.currentPassword.get_secret_value(),
            body.newPassword.get_secret_value(),
        )

    @router.post("/deactivate", summary="Désactiver mon compte")
    async def deactivate(
        body: PasswordBody, account: UserAccount = deps.user, cause: Cause = deps.cause
    ) -> dict:
        closed = await my_account.deactivate(ctx, account, body.password.get_secret_value(), cause)
        return view(closed)

    @router.post("/totp", summary="Commencer l'activation d'un second facteur (TOTP)")
    async def start_totp(account: UserAccount = deps.user) -> dict:
        updated, uri = await my_account.start_totp(ctx, account.id)
        assert updated.totp is not None
        # Shown once, to be scanned (QR code of the URI) or typed into the authenticator app.
        return {"otpauthUri": uri, "secret": updated.totp.secret, "confirmed": False}

    @router.post("/totp/confirm", summary="Confirmer le second facteur avec un premier code")
    async def confirm_totp(body: TotpCodeBody, account: UserAccount = deps.user) -> dict:
        return view(await my_account.confirm_totp(ctx, account.id, body.code.get_secret_value()))

    @router.post("/totp/disable", summary="Retirer le second facteur (code requis)")
    async def disable_totp(body: TotpCodeBody, account: UserAccount = deps.user) -> dict:
        return view(await my_account.disable_totp(ctx, account.id, body.code.get_secret_value()))

    @router.get("/rattachements", summary="Mes rattachements")
    async def mine(account: UserAccount = deps.user) -> dict:
        return {"rattachements": await rattachements.mine(ctx, account.id)}

    return router
