"""Raccordements: a structure's technical accounts (the EDI or API partner's credentials):
create one (its secret shown once, with a copy button and a warning), renew its secret,
revoke it; and what the partner must use — the API address, the token address and its EDI
folder. For the structure's gestionnaires (GP, « Organisation » in modification)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.entrypoints.pages_structures import load_structure, page_path
from chorale_portal.entrypoints.web import (
    access_denied,
    call,
    checked_form,
    management,
    portal_of,
    redirect,
    render,
)

ONLY_MANAGERS = ("Les raccordements d'une structure sont gérés par son gestionnaire principal "
                 "et les personnes ayant le profil « Organisation » en modification sur toute "
                 "la structure.")
LABEL_MAX = 100


def accounts_path(identifiant: str, rest: str = "") -> str:
    return f"/v1/structures/{quote(identifiant, safe='')}/technical-accounts{rest}"


def partner(request: Request) -> dict[str, str]:
    settings = portal_of(request).settings
    return {"api": settings.partner_intake_url.rstrip("/") + "/v1/flows",
            "token": settings.partner_token_url, "edi": settings.partner_edi_root.rstrip("/")}


def build_router() -> APIRouter:
    router = APIRouter()
    base = "/structures/{identifiant}/raccordements"

    @router.get("/raccordements")
    async def overview(request: Request) -> Response:
        structures = (await management(request)).whole_structures
        if not structures:
            return access_denied(request, ONLY_MANAGERS)
        return render(request, "raccordements_accueil.html", title="Raccordements",
                      structures=sorted(structures, key=lambda m: m.raison_sociale.casefold()))

    async def allowed(request: Request, identifiant: str) -> bool:
        return (await management(request)).manages_whole(identifiant)

    async def page(request: Request, identifiant: str, *, status: int = 200,
                   errors: FormErrors | None = None, form=None) -> Response:
        structure = await load_structure(request, identifiant)
        answer = await call(request, "identity", "GET", accounts_path(identifiant)) or {}
        accounts = sorted(answer.get("comptesTechniques") or [],
                          key=lambda a: (a.get("status") != "ACTIVE", a.get("createdAt") or ""))
        return render(request, "raccordements.html", status=status, errors=errors,
                      form=form or {}, title="Raccordements", structure=structure,
                      tab="raccordements", accounts=accounts, partner=partner(request))

    @router.get(base)
    async def connections(request: Request, identifiant: str) -> Response:
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        return await page(request, identifiant)

    def secret_page(request: Request, structure: dict, account: dict, *, renewed: bool,
                    status: int = 200) -> Response:
        # Shown once, never put in an address or a redirect (pages are `no-store`).
        return render(request, "raccordement_secret.html", status=status,
                      title="Secret du compte technique", structure=structure,
                      tab="raccordements", account=account, renewed=renewed,
                      partner=partner(request))

    @router.post(base)
    async def create(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        label = str(form.get("libelle") or "").strip()
        errors = FormErrors()
        if not label:
            errors.add("libelle", "Libellé : ce champ est obligatoire.")
        elif len(label) > LABEL_MAX:
            errors.add("libelle", f"Libellé : {LABEL_MAX} caractères au plus.")
        if not errors:
            try:
                created = await call(request, "identity", "POST", accounts_path(identifiant),
                                     json={"label": label})
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details,
                                     aliases={"label": "libelle"}, known={"libelle"})
            else:
                structure = await load_structure(request, identifiant)
                return secret_page(request, structure, created, renewed=False, status=201)
        return await page(request, identifiant, status=400, errors=errors, form=form)

    async def account_of(request: Request, identifiant: str, account_id: str) -> dict | None:
        answer = await call(request, "identity", "GET", accounts_path(identifiant)) or {}
        return next((a for a in answer.get("comptesTechniques") or []
                     if a.get("id") == account_id and a.get("status") == "ACTIVE"), None)

    @router.get(base + "/{account_id}/{action}")
    async def confirm(request: Request, identifiant: str, account_id: str,
                      action: str) -> Response:
        if action not in ("renouveler", "revoquer"):
            return render(request, "error.html", status=404, title="Page introuvable",
                          heading="Page introuvable", text="Cette page n'existe pas ou plus.")
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        account = await account_of(request, identifiant, account_id)
        if account is None:
            return await page(request, identifiant, status=404, errors=FormErrors(
                top=["Ce compte technique n'existe pas ou est déjà révoqué."]))
        structure = await load_structure(request, identifiant)
        return render(request, "raccordement_confirmation.html", title="Confirmer",
                      structure=structure, tab="raccordements", account=account,
                      action=action)

    @router.post(base + "/{account_id}/{action}")
    async def act(request: Request, identifiant: str, account_id: str,
                  action: str) -> Response:
        await checked_form(request)
        if action not in ("renouveler", "revoquer"):
            return render(request, "error.html", status=404, title="Page introuvable",
                          heading="Page introuvable", text="Cette page n'existe pas ou plus.")
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        verb = "rotate" if action == "renouveler" else "revoke"
        try:
            answer = await call(request, "identity", "POST",
                                accounts_path(identifiant,
                                              f"/{quote(account_id, safe='')}/{verb}"))
        except ApiProblem as exc:
            return await page(request, identifiant, status=409 if exc.status == 409 else 400,
                              errors=form_errors(exc.code, exc.message, exc.details,
                                                 known=set()))
        if verb == "revoke":
            return redirect(page_path(identifiant, "/raccordements"), "compte_technique_revoque")
        structure = await load_structure(request, identifiant)
        return secret_page(request, structure, answer, renewed=True)

    return router
