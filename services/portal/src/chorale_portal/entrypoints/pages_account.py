"""Mon compte: profile, contact e-mail (confirmed from a link sent to the new address),
password, second factor (TOTP, QR code drawn here from the otpauth URI), deactivation.

Sensitive changes ask for the current password, and for a TOTP code when the account has one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.domain.qr import qr_svg
from chorale_portal.entrypoints.web import (
    SESSION_COOKIE,
    attempt,
    call,
    checked_form,
    drop_cookie,
    portal_of,
    redirect,
    render,
    signed_in,
)

PASSWORD_ALIASES = {"password": "newPassword"}
# Identity's re-authentication refusals (401): about the proof the form asked for, shown next
# to its field — never a sign-out (the session's token itself is fine).
REAUTHENTICATION = {"INVALID_CREDENTIALS": "currentPassword", "ACCOUNT_LOCKED": "currentPassword",
                    "TOTP_REQUIRED": "totp", "TOTP_INVALID": "totp"}


def build_router() -> APIRouter:
    router = APIRouter()

    async def sensitive(request: Request, errors: FormErrors, path: str, form, body: dict,
                        **mapping) -> dict | None:
        """POST a sensitive change to identity with the current password (and the TOTP code
        when given): identity's answer ({} when empty), or None when refused (in `errors`)."""
        forms.require(form, {"currentPassword": "Mot de passe actuel"}, errors)
        sent = forms.with_second_factor(
            {"currentPassword": form.get("currentPassword"), **body}, form)
        answer: dict = {}

        async def send() -> None:
            answer.update(await call(request, "identity", "POST", path, json=sent) or {})

        if await attempt(errors, send, code_fields=REAUTHENTICATION,
                         known={"currentPassword", "totp", *body, *mapping.pop("known", ())},
                         **mapping):
            return answer
        return None

    async def me(request: Request) -> dict:
        return await call(request, "identity", "GET", "/v1/me")

    async def account_page(request: Request, *, status: int = 200, errors: FormErrors | None = None,
                           form: object = None, contact_errors: FormErrors | None = None,
                           contact_form: object = None) -> Response:
        account = await me(request)
        return render(request, "account.html", status=status, title="Mon compte",
                      account=account, errors=errors, form=form or account,
                      contact_errors=contact_errors or FormErrors(),
                      contact_form=contact_form or {})

    @router.get("/mon-compte")
    async def account(request: Request) -> Response:
        return await account_page(request)

    @router.post("/mon-compte/profil")
    async def update_profile(request: Request) -> Response:
        form = await checked_form(request)
        body, errors = forms.profile(form)

        async def save() -> None:
            updated = await call(request, "identity", "PATCH", "/v1/me", json=body)
            await portal_of(request).sessions.remember_user(await signed_in(request), updated)

        if await attempt(errors, save):
            return redirect("/mon-compte", "profil_modifie")
        return await account_page(request, status=400, errors=errors, form=form)

    @router.post("/mon-compte/adresse-contact")
    async def change_contact_email(request: Request) -> Response:
        form = await checked_form(request)
        errors = FormErrors()
        forms.require(form, {"contactEmail": "Nouvelle adresse de contact"}, errors)
        if await sensitive(request, errors, "/v1/me/contact-email", form,
                           {"contactEmail": forms.text(form, "contactEmail")},
                           aliases={"email": "contactEmail"}) is not None:
            return redirect("/mon-compte", "adresse_contact_envoyee")
        return await account_page(request, status=400, contact_errors=errors,
                                  contact_form={"contactEmail": form.get("contactEmail")})

    @router.get("/compte/confirmation-contact")
    async def contact_confirmation_form(request: Request, token: str = "") -> Response:
        await signed_in(request)
        return render(request, "contact_confirm.html", token=token[:200],
                      title="Confirmer l'adresse de contact")

    @router.post("/compte/confirmation-contact")
    async def confirm_contact(request: Request) -> Response:
        form = await checked_form(request)
        try:
            await call(request, "identity", "POST", "/v1/me/contact-email/confirm",
                       json={"token": forms.text(form, "token") or ""})
        except ApiProblem as exc:
            return render(request, "contact_confirm.html", status=400, token="",
                          errors=FormErrors(top=[exc.message]),
                          title="Confirmer l'adresse de contact")
        return redirect("/mon-compte", "adresse_contact_confirmee")

    # -- mot de passe -----------------------------------------------------------------------
    @router.get("/mon-compte/mot-de-passe")
    async def password_form(request: Request) -> Response:
        return render(request, "password.html", title="Changer mon mot de passe",
                      account=await me(request))

    @router.post("/mon-compte/mot-de-passe")
    async def change_password(request: Request) -> Response:
        form = await checked_form(request)
        password, errors = forms.new_password(form)
        if await sensitive(request, errors, "/v1/me/password", form, {"newPassword": password},
                           aliases=PASSWORD_ALIASES,
                           known={"newPasswordConfirmation"}) is not None:
            return redirect("/mon-compte", "mot_de_passe_change")
        return render(request, "password.html", status=400, errors=errors,
                      title="Changer mon mot de passe", account=await me(request))

    # -- double authentification ---------------------------------------------------------
    @router.get("/mon-compte/double-authentification")
    async def totp_page(request: Request) -> Response:
        return render(request, "totp.html", title="Double authentification",
                      account=await me(request))

    @router.post("/mon-compte/double-authentification/activation")
    async def start_totp(request: Request) -> Response:
        form = await checked_form(request)
        errors = FormErrors()
        started = await sensitive(request, errors, "/v1/me/totp", form, {})
        if started is not None:
            return render(request, "totp_enrol.html", title="Activer la double "
                          "authentification", qr=qr_svg(started["otpauthUri"]),
                          secret=started.get("secret", ""))
        return render(request, "totp.html", status=400, errors=errors,
                      title="Double authentification", account=await me(request))

    @router.post("/mon-compte/double-authentification/confirmation")
    async def confirm_totp(request: Request) -> Response:
        form = await checked_form(request)
        try:
            await call(request, "identity", "POST", "/v1/me/totp/confirm",
                       json={"code": forms.text(form, "code") or ""})
        except ApiProblem as exc:
            return render(request, "totp_enrol.html", status=400,
                          title="Activer la double authentification", qr=None, secret="",
                          errors=form_errors(exc.code, exc.message, exc.details,
                                             aliases={"totp": "code"}, known={"code"}))
        return redirect("/mon-compte", "totp_active")

    @router.post("/mon-compte/double-authentification/desactivation")
    async def disable_totp(request: Request) -> Response:
        form = await checked_form(request)
        errors = FormErrors()
        forms.require(form, {"code": "Code"}, errors)
        # The code is the disabling's own field (`code`), not the second factor of the change.
        if await sensitive(request, errors, "/v1/me/totp/disable",
                           {"currentPassword": form.get("currentPassword")},
                           {"code": forms.text(form, "code")},
                           aliases={"totp": "code"}) is not None:
            return redirect("/mon-compte", "totp_desactive")
        return render(request, "totp.html", status=400, errors=errors,
                      title="Double authentification", account=await me(request))

    # -- désactiver mon compte ------------------------------------------------------------
    @router.get("/mon-compte/desactivation")
    async def deactivation_form(request: Request) -> Response:
        return render(request, "deactivate.html", title="Désactiver mon compte",
                      account=await me(request))

    @router.post("/mon-compte/desactivation")
    async def deactivate(request: Request) -> Response:
        form = await checked_form(request)
        errors = FormErrors()
        if await sensitive(request, errors, "/v1/me/deactivate", form, {}) is not None:
            await portal_of(request).sessions.end(await signed_in(request))
            response = redirect("/connexion", "compte_desactive")
            drop_cookie(request, response, SESSION_COOKIE)
            return response
        return render(request, "deactivate.html", status=400, errors=errors,
                      title="Désactiver mon compte", account=await me(request))

    return router
