"""Créer un compte, confirmer son adresse, se connecter (avec le code TOTP quand il est
activé), mot de passe oublié, se déconnecter, et l'accueil."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import WAIT_MESSAGES, FormErrors, form_errors
from chorale_portal.entrypoints.web import (
    CSRF_COOKIE,
    PENDING_COOKIE,
    SESSION_COOKIE,
    attempt,
    checked_form,
    current_session,
    drop_cookie,
    portal_of,
    redirect,
    render,
    safe_next,
    set_cookie,
)

REGISTRATION_FIELDS = {"email", "password", "passwordConfirmation", "prenom", "nom",
                       "contactEmail", "telephone", "mobile"}


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def home(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            return render(request, "home_anonymous.html", title="Accueil")
        return render(request, "home.html", title="Accueil")

    # -- créer un compte ----------------------------------------------------------------------
    @router.get("/compte/creation")
    async def registration_form(request: Request) -> Response:
        return render(request, "register.html", title="Créer un compte")

    @router.post("/compte/creation")
    async def register(request: Request) -> Response:
        form = await checked_form(request)
        body, errors = forms.registration(form)
        api = portal_of(request).api
        if await attempt(errors, lambda: api.call("identity", "POST", "/v1/users", json=body),
                         known=REGISTRATION_FIELDS):
            return redirect("/compte/creation/envoyee", "compte_cree")
        return render(request, "register.html", status=400, errors=errors,
                      form=_without_secrets(form), title="Créer un compte")

    @router.get("/compte/creation/envoyee")
    async def registration_sent(request: Request) -> Response:
        return render(request, "message.html", title="Confirmez votre adresse",
                      heading="Confirmez votre adresse")

    # -- la page du lien de confirmation --------------------------------------------------
    @router.get("/compte/verification")
    async def verification_form(request: Request, token: str = "") -> Response:
        return render(request, "verify.html", token=token[:200],
                      title="Confirmer mon adresse")

    @router.post("/compte/verification")
    async def verify(request: Request) -> Response:
        form = await checked_form(request)
        token = forms.text(form, "token") or ""
        try:
            await portal_of(request).api.call("identity", "POST", "/v1/users/verify",
                                              json={"token": token})
        except ApiProblem as exc:
            return render(request, "verify.html", status=_status(exc, 400),
                          token=token if exc.code in WAIT_MESSAGES else "", errors=_top(exc),
                          title="Confirmer mon adresse")
        return redirect("/connexion", "adresse_confirmee")

    # -- se connecter -------------------------------------------------------------------------
    @router.get("/connexion")
    async def sign_in_form(request: Request, suite: str = "/") -> Response:
        return render(request, "sign_in.html", title="Se connecter", suite=safe_next(suite))

    @router.post("/connexion")
    async def sign_in(request: Request) -> Response:
        form = await checked_form(request)
        suite = safe_next(forms.text(form, "suite"))
        email = forms.text(form, "email") or ""
        sent = form.get("password")
        password = sent if isinstance(sent, str) else ""  # as typed: never trimmed
        sessions = portal_of(request).sessions
        try:
            session = await sessions.sign_in(email, password)
        except ApiProblem as exc:
            if exc.code == "TOTP_REQUIRED":
                held = await sessions.hold_sign_in(email, password)
                response = render(request, "sign_in_code.html", title="Code de vérification",
                                  suite=suite)
                set_cookie(request, response, PENDING_COOKIE, held, max_age=300)
                return response
            return render(request, "sign_in.html", status=_status(exc), title="Se connecter",
                          errors=_top(exc), form={"email": email}, suite=suite)
        return await _signed_in(request, session.secret, suite)

    @router.post("/connexion/code")
    async def sign_in_code(request: Request) -> Response:
        form = await checked_form(request)
        suite = safe_next(forms.text(form, "suite"))
        sessions = portal_of(request).sessions
        held_secret = request.cookies.get(PENDING_COOKIE)
        held = await sessions.held_sign_in(held_secret)
        if held is None:
            return render(request, "sign_in.html", status=400, title="Se connecter",
                          errors=FormErrors(top=["Le délai est dépassé : saisissez de "
                                                 "nouveau votre adresse et votre mot de passe."]),
                          suite=suite)
        try:
            session = await sessions.sign_in(held["email"], held["password"],
                                             forms.text(form, "totp") or "")
        except ApiProblem as exc:
            if exc.code == "TOTP_INVALID" or exc.code in WAIT_MESSAGES:
                # a wrong code, or too many tries: the same code page, the password kept
                return render(request, "sign_in_code.html", status=_status(exc),
                              title="Code de vérification", suite=suite,
                              errors=form_errors(exc.code, exc.message, exc.details,
                                                 known={"totp"}))
            await sessions.drop_held_sign_in(held_secret)
            return render(request, "sign_in.html", status=_status(exc), title="Se connecter",
                          errors=_top(exc), form={"email": held["email"]}, suite=suite)
        await sessions.drop_held_sign_in(held_secret)
        response = await _signed_in(request, session.secret, suite)
        drop_cookie(request, response, PENDING_COOKIE)
        return response

    # -- mot de passe oublié ----------------------------------------------------------------
    @router.get("/compte/mot-de-passe-oublie")
    async def forgotten_form(request: Request) -> Response:
        return render(request, "forgotten.html", title="Mot de passe oublié")

    @router.post("/compte/mot-de-passe-oublie")
    async def forgotten(request: Request) -> Response:
        form = await checked_form(request)
        email = forms.text(form, "email")
        if not email:
            return render(request, "forgotten.html", status=400, title="Mot de passe oublié",
                          errors=FormErrors(fields={"email": "Adresse électronique : ce champ "
                                                             "est obligatoire."}))
        try:
            await portal_of(request).api.call("identity", "POST", "/v1/auth/password-reset",
                                              json={"email": email})
        except ApiProblem as exc:
            return render(request, "forgotten.html", status=400, title="Mot de passe oublié",
                          errors=form_errors(exc.code, exc.message, exc.details,
                                             known={"email"}), form={"email": email})
        return redirect("/connexion", "lien_envoye")

    @router.get("/compte/reinitialisation-mot-de-passe")
    async def reset_form(request: Request, token: str = "") -> Response:
        return render(request, "reset.html", token=token[:200],
                      title="Choisir un nouveau mot de passe")

    @router.post("/compte/reinitialisation-mot-de-passe")
    async def reset(request: Request) -> Response:
        form = await checked_form(request)
        token = forms.text(form, "token") or ""
        password, errors = forms.new_password(form)
        body = {"token": token, "newPassword": password}
        api = portal_of(request).api
        if await attempt(errors, lambda: api.call("identity", "POST",
                                                  "/v1/auth/password-reset/confirm", json=body),
                         aliases={"password": "newPassword"},
                         known={"newPassword", "newPasswordConfirmation"}):
            return redirect("/connexion", "mot_de_passe_reinitialise")
        return render(request, "reset.html", status=400, token=token, errors=errors,
                      title="Choisir un nouveau mot de passe")

    # -- se déconnecter -----------------------------------------------------------------------
    @router.post("/deconnexion")
    async def sign_out(request: Request) -> Response:
        await checked_form(request)
        session = await current_session(request)
        if session is not None:
            await portal_of(request).sessions.sign_out(session)
        response = redirect("/connexion", "deconnecte")
        drop_cookie(request, response, SESSION_COOKIE)
        return response

    return router


async def _signed_in(request: Request, secret: str, suite: str) -> Response:
    previous = getattr(request.state, "session", None)
    if previous is not None:  # signing in again ends the browser's previous session
        await portal_of(request).sessions.sign_out(previous)
    response = redirect(suite)
    set_cookie(request, response, SESSION_COOKIE, secret)
    drop_cookie(request, response, CSRF_COOKIE)
    return response


def _top(exc: ApiProblem) -> FormErrors:
    """A refusal about the whole form (wrong credentials, too many tries: with the wait)."""
    return form_errors(exc.code, exc.message, exc.details, known=set())


def _status(exc: ApiProblem, default: int = 401) -> int:
    """A wait (429 or 503 SERVICE_BUSY) keeps its status; any other refusal the form's."""
    return exc.status if exc.code in WAIT_MESSAGES else default


def _without_secrets(form) -> dict:
    """A form shown again never carries the passwords back into the page."""
    return {k: v for k, v in form.items() if "password" not in k.lower() and k != "csrf"}
