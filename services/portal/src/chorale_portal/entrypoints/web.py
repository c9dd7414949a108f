"""What every page shares: the signed-in session, CSRF on every POST, rendering with the
navigation, redirects with a message, and the pages shown when something goes wrong."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pymongo.errors import PyMongoError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from chorale_portal.adapters.services_api import (
    API_WAIT,
    BROWSER_ADDRESS,
    ApiProblem,
    NotSignedIn,
    ServicesApi,
    ServiceUnavailable,
    time_waiting,
)
from chorale_portal.domain import labels
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.domain.secrets import csrf_token, csrf_valid, new_secret
from chorale_portal.service_layer.header import Header, HeaderCache
from chorale_portal.service_layer.management import (
    MENU_CALL_TIMEOUT_SECONDS,
    UNKNOWN_KEEP_SECONDS,
    Management,
    ManagementCache,
)
from chorale_portal.service_layer.sessions import Session, Sessions
from chorale_portal.settings import PortalSettings
from chorale_runtime.client_address import Networks, client_address, parse_networks
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

SESSION_COOKIE = "chorale_session"
CSRF_COOKIE = "chorale_csrf"
PENDING_COOKIE = "chorale_connexion"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
TEMPLATES.env.globals["labels"] = labels

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


_NO_SESSION = ("/static/", "/health", "/ready", "/metrics")


class SignInRequired(Exception):
    pass


class CsrfRejected(Exception):
    pass


@dataclass
class Portal:
    settings: PortalSettings
    api: ServicesApi
    sessions: Sessions
    managed: ManagementCache = field(default_factory=ManagementCache)

    def __post_init__(self) -> None:
        self.trusted_proxies: Networks = parse_networks(self.settings.trusted_proxies)
        self.headers = HeaderCache(self.settings.header_cache_seconds)

    def browser_address(self, request: Request) -> str | None:
        """The browser's address: the socket peer, or what the portal's own trusted proxies
        say (`CHORALE_TRUSTED_PROXIES` of the portal, none by default)."""
        if request.client is None:
            return None
        return client_address(request.client.host,
                              request.headers.getlist("x-forwarded-for"), self.trusted_proxies)


def portal_of(request: Request) -> Portal:
    return request.app.state.portal


def is_https(request: Request) -> bool:
    mode = portal_of(request).settings.cookie_secure
    if mode != "auto":
        return mode == "always"
    if portal_of(request).settings.trust_forwarded_proto:
        return request.headers.get("x-forwarded-proto", request.url.scheme) == "https"
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        secure=is_https(request), samesite="lax")


def drop_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, secure=is_https(request),
                           samesite="lax")


# -- session --------------------------------------------------------------------------------
async def current_session(request: Request) -> Session | None:
    if not hasattr(request.state, "session"):
        portal = portal_of(request)
        request.state.session = await portal.sessions.load(request.cookies.get(SESSION_COOKIE))
    return request.state.session


async def signed_in(request: Request) -> Session:
    session = await current_session(request)
    if session is None:
        raise SignInRequired()
    return session


async def token_of(request: Request) -> str:
    session = await signed_in(request)
    return await portal_of(request).sessions.access_token(session)


async def header_of(request: Request) -> Header | None:
    """The signed-in person's rights and unread count (service_layer/header.py)."""
    if not hasattr(request.state, "header"):
        session = await current_session(request)
        request.state.header = None
        if session is not None:
            async def ask(service: str, method: str, path: str) -> Any:
                return await call(request, service, method, path)

            request.state.header = await portal_of(request).headers.get(
                session.id, session.user.get("roles"), ask)
    return request.state.header


async def call(request: Request, service: str, method: str, path: str, **kwargs: Any) -> Any:
    """A call to a service's API with the signed-in person's access token."""
    token = await token_of(request)
    return await portal_of(request).api.call(service, method, path, token=token, **kwargs)


async def attempt(errors: FormErrors, action: Callable[[], Awaitable[Any]],
                  **mapping: Any) -> bool:
    """Make a form's service call once the form itself is valid; the service's refusal
    becomes the form's errors (`mapping`: see form_errors). True when the call succeeded."""
    if errors:
        return False
    try:
        await action()
    except ApiProblem as exc:
        errors.merge(form_errors(exc.code, exc.message, exc.details, **mapping))
        return False
    return True


async def management(request: Request, *, fresh: bool = False) -> Management:
    """What the signed-in person manages (menu entries, badge, structure tabs): kept a few
    seconds per session; `fresh` asks identity again (pages that act on it)."""
    session = await signed_in(request)
    cache = portal_of(request).managed
    known = None if fresh else cache.get(session.id)
    if known is None or not known.known:
        answer = await call(request, "identity", "GET", "/v1/me/approbations",
                            params={"etat": "EN_COURS_DE_VALIDATION"})
        return remember_management(request, answer)
    request.state.management = known
    return known


def remember_management(request: Request, answer: Any) -> Management:
    """From an answer of `GET /v1/me/approbations` a page asked for anyway (any filter: the
    structures and the waiting count are the unfiltered ones)."""
    known = Management.of(answer if isinstance(answer, dict) else None)
    session = getattr(request.state, "session", None)
    if session is not None:
        portal_of(request).managed.put(session.id, known)
    request.state.management = known
    return known


def forget_management(request: Request) -> None:
    """After the person's own action changed what they manage or what waits for them."""
    session = getattr(request.state, "session", None)
    if session is not None:
        portal_of(request).managed.forget(session.id)


def access_denied(request: Request, text: str | None = None) -> HTMLResponse:
    return error_page(request, 403, "Accès refusé", text or (
        "Vous n'avez pas le droit d'ouvrir cette page. Si vous pensez devoir y accéder, "
        "demandez-le au gestionnaire principal de la structure."))


# -- CSRF -----------------------------------------------------------------------------------
def _csrf_seed(request: Request) -> str | None:
    session = getattr(request.state, "session", None)
    if session is not None:
        return session.secret
    return request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_seed", None)


def csrf_for(request: Request) -> str:
    seed = _csrf_seed(request)
    if seed is None:
        seed = request.state.new_csrf_seed = new_secret()
    return csrf_token(seed)


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token matched this browser's seed."""
    await current_session(request)
    form = await request.form()
    token = form.get("csrf")
    if not csrf_valid(_csrf_seed(request), token if isinstance(token, str) else None):
        raise CsrfRejected()
    return form


# -- rendering ------------------------------------------------------------------------------
def is_operator(session: Session | None) -> bool:
    """A platform operator (identity's `operator` role, as /v1/me gave it at sign-in)."""
    return session is not None and "operator" in (session.user.get("roles") or ())


def navigation(session: Session | None, path: str, managed: Management | None = None,
               header: Header | None = None) -> list[tuple[str, str, bool]]:
    """The webinar's menu, limited to the screens that exist (a missing one is absent) and
    that the person may use: (address, label, current) — current is the entry whose address
    is the longest start of the page's (« Mes invitations » rather than « Mon compte »)."""
    if session is None:
        return []
    managed = managed or Management()
    entries = [("/", "Accueil"), ("/mon-compte", "Mon compte"),
               ("/mon-compte/invitations", "Mes invitations"),
               ("/mon-compte/rattachements", "Mes rattachements"),
               ("/mon-compte/habilitations", "Mes habilitations"), ("/structures", "Structures")]
    # the webinar's order: … Structures, Raccordements, Suivi des flux, Factures, Mes messages,
    # Approbations
    rights = header.rights if header is not None else None
    if managed.whole_structures:
        entries.append(("/raccordements", "Raccordements"))
    if rights is not None and rights.flows:
        entries.append(("/suivi-des-flux", "Suivi des flux"))
    if rights is not None and rights.received:
        entries.append(("/factures-recues", "Factures reçues"))
    if rights is not None and rights.issued:
        entries.append(("/factures-emises", "Factures émises"))
    if rights is not None and rights.deposits and not is_operator(session):
        entries.append(("/depot-facture", "Déposer une facture"))
    entries.append(("/mes-messages", "Mes messages"))
    if managed.manages_any:
        entries.append(("/approbations", "Approbations"))
    if is_operator(session):
        entries.append(("/back-office", "Back office"))
    matching = [href for href, _ in entries
                if path == href or (href != "/" and path.startswith(href + "/"))]
    current = max(matching, key=len, default=None)
    return [(href, label, href == current) for href, label in entries]


def render(request: Request, template: str, *, status: int = 200,
           errors: FormErrors | None = None, form: Any = None, title: str = "",
           **context: Any) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    notice = labels.NOTICES.get(request.query_params.get("message", ""))
    structure = context.get("structure")
    if isinstance(structure, dict) and structure.get("identifiant"):
        # the structure's pages link to each other from this base
        context.setdefault("base", "/structures/" + quote(structure["identifiant"], safe=""))
    managed = getattr(request.state, "management", None)
    header = getattr(request.state, "header", None)
    response = TEMPLATES.TemplateResponse(request, template, {
        "session": session, "nav": navigation(session, request.url.path, managed, header),
        "nav_badges": {"/approbations": managed.waiting} if managed else {},
        "managed": managed or Management(),
        "unread": header.unread if header is not None else None, "csrf": csrf_for(request),
        "errors": errors or FormErrors(), "form": form or {}, "title": title,
        "notice": notice, "path": request.url.path, **context,
    }, status_code=status)
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed and session is None:
        set_cookie(request, response, CSRF_COOKIE, seed)
    return response


def redirect(path: str, message: str | None = None) -> RedirectResponse:
    if message:
        path += ("&" if "?" in path else "?") + urlencode({"message": message})
    return RedirectResponse(path, status_code=303)


def safe_next(value: str | None) -> str:
    """Only a path of this site (no scheme, no host, no `//`): never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def error_page(request: Request, status: int, heading: str, text: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title=heading, heading=heading,
                  text=text)


# -- the application's middleware -----------------------------------------------------------
def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def pages(request: Request, call_next):
        waits: list[tuple[float, float]] = []
        API_WAIT.set(waits)
        BROWSER_ADDRESS.set(portal_of(request).browser_address(request))
        started = time.perf_counter()
        try:
            if not request.url.path.startswith(_NO_SESSION):
                # Every page knows whether someone is signed in: its header, its menu and
                # the seed of its forms' CSRF token depend on it.
                if await current_session(request) is not None:
                    await _menu_facts(request)
                    await header_of(request)
            response = await call_next(request)
        except SignInRequired:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/connexion?suite={quote(target)}", status_code=303)
        except NotSignedIn:
            session = getattr(request.state, "session", None)
            if session is not None:
                await portal_of(request).sessions.end(session)
                request.state.session = None
            response = RedirectResponse("/connexion?message=session_terminee", status_code=303)
            drop_cookie(request, response, SESSION_COOKIE)
        except CsrfRejected:
            response = error_page(
                request, 403, "Formulaire expiré",
                "Ce formulaire n'est plus valable (page ouverte avant une connexion ou une "
                "déconnexion, ou envoyée depuis un autre site). Revenez en arrière, rechargez "
                "la page et recommencez.")
        except (ServiceUnavailable, PyMongoError) as exc:
            if isinstance(exc, ServiceUnavailable):
                log.warning("service_unavailable", upstream=exc.service, reason=exc.reason)
            else:  # the portal's own session store
                log.warning("service_unavailable", upstream="sessions",
                            reason=type(exc).__name__)
            response = error_page(
                request, 503, "Service momentanément indisponible",
                "Une partie de Chorale ne répond pas pour le moment. Vos données ne sont pas "
                "perdues : réessayez dans quelques minutes.")
        except ApiProblem as exc:
            response = _problem_page(request, exc)
        except Exception as exc:
            log.error("page_failed", error_type=type(exc).__name__, exc_info=exc)
            response = error_page(
                request, 500, "Erreur inattendue",
                "La page n'a pas pu être affichée. L'incident est journalisé ; réessayez "
                "plus tard.")
        elapsed = time.perf_counter() - started
        api = time_waiting(waits)
        response.headers["Server-Timing"] = (
            f"api;dur={api * 1000:.2f};desc=\"{len(waits)} appels\", "
            f"portail;dur={(elapsed - api) * 1000:.2f}")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Pages carry one-time tokens in their address (mail links): never pass it on.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            return error_page(request, 405, "Action impossible",
                              "Cette adresse ne s'utilise pas ainsi.")
        return error_page(request, exc.status_code if exc.status_code < 500 else 404,
                          "Page introuvable", "Cette page n'existe pas ou plus.")

    app.add_exception_handler(StarletteHTTPException, not_found)


async def _menu_facts(request: Request) -> None:
    """The menu's entries and badge for every page; a page still shows when identity cannot
    tell (its entries are then absent, never broken)."""
    session = request.state.session
    cache = portal_of(request).managed
    known = cache.get(session.id)
    if known is not None or request.method != "GET":  # a form's answer: what is known
        request.state.management = known
        return
    try:
        answer = await call(request, "identity", "GET", "/v1/me/approbations",
                            params={"etat": "EN_COURS_DE_VALIDATION"},
                            timeout=MENU_CALL_TIMEOUT_SECONDS)
    except (ApiProblem, ServiceUnavailable) as exc:
        log.warning("menu_facts_unavailable", reason=str(exc))
        cache.put(session.id, Management(known=False), keep=UNKNOWN_KEEP_SECONDS)
        return
    remember_management(request, answer)


def _problem_page(request: Request, exc: ApiProblem) -> HTMLResponse:
    """A refusal no form could show (a page opened by its address)."""
    if exc.status == 403:
        return error_page(request, 403, "Accès refusé", exc.message)
    if exc.status == 404:
        return error_page(request, 404, "Introuvable", exc.message)
    return error_page(request, exc.status, "Demande refusée", exc.message)
