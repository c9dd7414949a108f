"""Utilisateurs of a structure (its gestionnaires only): the people attached, « Rattacher un
utilisateur » (an invitation the person accepts), a person's habilitations changed application
by application at the structure's or a service's level, « Supprimer tout », and the gestionnaire
principal with the transfer of the role (the GP only, after a confirmation step)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.domain.people import (
    Change,
    habilitation_changes,
    held_at_level,
    members_view,
)
from chorale_portal.entrypoints.pages_structures import api_path, load_structure, page_path
from chorale_portal.entrypoints.web import (
    access_denied,
    call,
    checked_form,
    forget_management,
    management,
    redirect,
    render,
)

ONLY_MANAGERS = ("Les utilisateurs d'une structure sont gérés par son gestionnaire principal et "
                 "les personnes ayant le profil « Organisation » en modification sur toute la "
                 "structure.")
ONLY_GP = ("Seul le gestionnaire principal de la structure peut transférer son rôle.")


async def _context(request: Request, identifiant: str) -> tuple[dict, list[dict], list[dict]]:
    """The structure, its attached people and its active services."""
    structure, people, services = await asyncio.gather(
        load_structure(request, identifiant),
        call(request, "identity", "GET", f"/v1/structures/{quote(identifiant, safe='')}"
             "/utilisateurs"),
        call(request, "structures", "GET", api_path(identifiant, "/services")))
    active = [s for s in (services or {}).get("listeServices") or []
              if s.get("statut") == "ACTIF"]
    return structure, members_view((people or {}).get("utilisateurs") or []), active


def _levels(services: list[dict]) -> dict[str, str]:
    levels = {"": "Toute la structure"}
    levels.update({s["codeService"]: f"Service {s['codeService']} — {s.get('libelle') or ''}"
                   for s in services})
    return levels


def build_router() -> APIRouter:
    router = APIRouter()
    base = "/structures/{identifiant}/utilisateurs"

    async def allowed(request: Request, identifiant: str) -> bool:
        return (await management(request)).manages_whole(identifiant)

    async def users_page(request: Request, identifiant: str, *, status: int = 200,
                         errors: FormErrors | None = None, form=None) -> Response:
        structure, people, services = await _context(request, identifiant)
        return render(request, "utilisateurs.html", status=status, errors=errors,
                      form=form or {}, title="Utilisateurs", structure=structure,
                      tab="utilisateurs", people=people, levels=_levels(services),
                      is_gp=(await management(request)).is_gestionnaire_principal(identifiant))

    @router.get(base)
    async def users(request: Request, identifiant: str) -> Response:
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        return await users_page(request, identifiant)

    @router.post(base + "/invitation")
    async def invite(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        body, errors = forms.invitation(form)
        if not errors:
            try:
                await call(request, "identity", "POST", f"/v1/structures/"
                           f"{quote(identifiant, safe='')}/rattachements", json=body)
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details,
                                     known={"email", "codeService", "commentaire"})
            else:
                return redirect(page_path(identifiant, "/utilisateurs"), "utilisateur_invite")
        return await users_page(request, identifiant, status=400, errors=errors, form=form)

    # -- one person's habilitations -------------------------------------------------------
    async def person_page(request: Request, identifiant: str, user_id: str, level: str, *,
                          status: int = 200, errors: FormErrors | None = None,
                          chosen: dict | None = None) -> Response:
        (structure, people, services), catalogue, grants = await asyncio.gather(
            _context(request, identifiant),
            call(request, "habilitations", "GET", "/v1/applications"),
            call(request, "habilitations", "GET",
                 f"/v1/structures/{quote(identifiant, safe='')}/habilitations",
                 params={"userId": user_id}))
        person = next((p for p in people if p.get("userId") == user_id), None)
        if person is None:
            return render(request, "error.html", status=404, title="Utilisateur introuvable",
                          heading="Utilisateur introuvable",
                          text="Cette personne n'est pas rattachée à la structure.")
        levels = _levels(services)
        level = level if level in levels else ""
        rows = (grants or {}).get("habilitations") or []
        held = held_at_level(rows, level or None)
        modes = {a["application"]: (chosen or {}).get(f"mode-{a['application']}",
                                                      (held.get(a["application"]) or {}).get(
                                                          "mode", ""))
                 for a in catalogue or []}
        return render(request, "utilisateur.html", status=status, errors=errors,
                      title=f"Habilitations de {person['nomAffiche']}", structure=structure,
                      tab="utilisateurs", person=person, grants=rows, catalogue=catalogue or [],
                      level=level, levels=levels, modes=modes,
                      protected=person.get("gestionnairePrincipal") and not level)

    @router.get(base + "/{user_id}")
    async def person(request: Request, identifiant: str, user_id: str) -> Response:
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        return await person_page(request, identifiant, user_id,
                                 request.query_params.get("niveau") or "")

    @router.post(base + "/{user_id}")
    async def change(request: Request, identifiant: str, user_id: str) -> Response:
        form = await checked_form(request)
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        level = str(form.get("niveau") or "")
        catalogue = await call(request, "habilitations", "GET", "/v1/applications") or []
        grants = await call(request, "habilitations", "GET",
                            f"/v1/structures/{quote(identifiant, safe='')}/habilitations",
                            params={"userId": user_id})
        held = held_at_level((grants or {}).get("habilitations") or [], level or None)
        changes, errors = habilitation_changes(held, [a["application"] for a in catalogue],
                                               form)
        done = 0
        if not errors:
            for one in changes:
                try:
                    await _apply(request, identifiant, user_id, level or None, one)
                except ApiProblem as exc:
                    errors = form_errors(exc.code, exc.message, exc.details, known=set())
                    if done:
                        errors.top.append(f"{done} changement(s) précédent(s) sont "
                                          "enregistrés ; les suivants ne sont pas faits.")
                    break
                done += 1
        if not errors:
            target = page_path(identifiant, f"/utilisateurs/{quote(user_id, safe='')}")
            if level:
                target += "?" + urlencode({"niveau": level})
            return redirect(target, "habilitations_modifiees")
        chosen = {k: str(v) for k, v in form.items() if k.startswith("mode-")}
        return await person_page(request, identifiant, user_id, level, status=400,
                                 errors=errors, chosen=chosen)

    @router.get(base + "/{user_id}/supprimer-tout")
    async def remove_all_form(request: Request, identifiant: str, user_id: str) -> Response:
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        structure, people, _ = await _context(request, identifiant)
        person = next((p for p in people if p.get("userId") == user_id), None)
        if person is None:
            return render(request, "error.html", status=404, title="Utilisateur introuvable",
                          heading="Utilisateur introuvable",
                          text="Cette personne n'est pas rattachée à la structure.")
        return render(request, "utilisateur_supprimer_tout.html", title="Supprimer tout",
                      structure=structure, tab="utilisateurs", person=person)

    @router.post(base + "/{user_id}/supprimer-tout")
    async def remove_all(request: Request, identifiant: str, user_id: str) -> Response:
        await checked_form(request)
        if not await allowed(request, identifiant):
            return access_denied(request, ONLY_MANAGERS)
        try:
            await call(request, "habilitations", "DELETE",
                       f"/v1/structures/{quote(identifiant, safe='')}/users/"
                       f"{quote(user_id, safe='')}/habilitations")
        except ApiProblem as exc:
            return await person_page(request, identifiant, user_id, "", status=409,
                                     errors=form_errors(exc.code, exc.message, exc.details,
                                                        known=set()))
        return redirect(page_path(identifiant, f"/utilisateurs/{quote(user_id, safe='')}"),
                        "habilitations_supprimees")

    # -- the gestionnaire principal's role ------------------------------------------------
    gp = "/structures/{identifiant}/gestionnaire-principal"

    async def transfer_page(request: Request, identifiant: str, *, status: int = 200,
                            errors: FormErrors | None = None, form=None) -> Response:
        structure, people, _ = await _context(request, identifiant)
        candidates = {p["userId"]: f"{p['nomAffiche']} ({p.get('email') or p['userId']})"
                      for p in people
                      if not p.get("gestionnairePrincipal") and p.get("statut") == "ACTIVE"}
        return render(request, "gp_transfert.html", status=status, errors=errors,
                      form=form or {}, title="Transférer le rôle de gestionnaire principal",
                      structure=structure, tab="utilisateurs", candidates=candidates,
                      current=next((p for p in people if p.get("gestionnairePrincipal")), None))

    @router.get(gp)
    async def transfer_form(request: Request, identifiant: str) -> Response:
        if not (await management(request)).is_gestionnaire_principal(identifiant):
            return access_denied(request, ONLY_GP)
        return await transfer_page(request, identifiant)

    @router.post(gp + "/confirmation")
    async def transfer_confirmation(request: Request, identifiant: str) -> Response:
        """Step 2: who, what it changes, and the structure's identifiant typed to confirm."""
        form = await checked_form(request)
        if not (await management(request)).is_gestionnaire_principal(identifiant):
            return access_denied(request, ONLY_GP)
        structure, people, _ = await _context(request, identifiant)
        target = next((p for p in people if p.get("userId") == form.get("userId")
                       and not p.get("gestionnairePrincipal")), None)
        if target is None:
            return await transfer_page(request, identifiant, status=400, errors=FormErrors(
                fields={"userId": "Choisissez une personne rattachée à la structure."}))
        return render(request, "gp_confirmation.html", title="Confirmer le transfert",
                      structure=structure, tab="utilisateurs", target=target,
                      errors=FormErrors(), form={})

    @router.post(gp)
    async def transfer(request: Request, identifiant: str) -> Response:
        form = await checked_form(request)
        if not (await management(request)).is_gestionnaire_principal(identifiant):
            return access_denied(request, ONLY_GP)
        user_id = str(form.get("userId") or "")
        typed = "".join(str(form.get("confirmation") or "").split())
        errors = FormErrors()
        if typed != identifiant:
            errors.add("confirmation", "Saisissez exactement l'identifiant de la structure "
                                       f"({identifiant}) pour confirmer.")
        else:
            try:
                await call(request, "identity", "POST", f"/v1/structures/"
                           f"{quote(identifiant, safe='')}/gestionnaire-principal/transfer",
                           json={"toUserId": user_id})
            except ApiProblem as exc:
                errors = form_errors(exc.code, exc.message, exc.details, known=set())
            else:
                forget_management(request)
                return redirect("/structures", "gp_transfere")
        structure, people, _ = await _context(request, identifiant)
        target = next((p for p in people if p.get("userId") == user_id), None)
        if target is None:
            return await transfer_page(request, identifiant, status=400, errors=errors)
        return render(request, "gp_confirmation.html", status=400, title="Confirmer le "
                      "transfert", structure=structure, tab="utilisateurs", target=target,
                      errors=errors, form=form)

    return router


async def _apply(request: Request, identifiant: str, user_id: str, level: str | None,
                 change: Change) -> None:
    body: dict[str, object]
    if change.action == "add":
        body = {"userId": user_id, "application": change.application, "mode": change.mode}
        if level:
            body["codeService"] = level
        await call(request, "habilitations", "POST",
                   f"/v1/structures/{quote(identifiant, safe='')}/habilitations", json=body)
    elif change.action == "mode":
        body = {"mode": change.mode}
        if change.version:
            body["version"] = change.version
        await call(request, "habilitations", "PATCH",
                   f"/v1/habilitations/{quote(change.grant_id or '', safe='')}", json=body)
    else:
        params = {"version": change.version} if change.version else {}
        await call(request, "habilitations", "DELETE",
                   f"/v1/habilitations/{quote(change.grant_id or '', safe='')}", params=params)
