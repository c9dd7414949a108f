"""Mes invitations: « Rattacher un utilisateur » is an invitation the person accepts or
declines here (the mail `rattachement_invitation` links to this page). Nobody is attached
before accepting; identity decides who may answer (the invitation's address is the login)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.entrypoints.web import call, checked_form, redirect, render

PAGE = "/mon-compte/invitations"
ANSWERS = {"accepter": ("accept", "invitation_acceptee"),
           "refuser": ("decline", "invitation_refusee")}


def build_router() -> APIRouter:
    router = APIRouter()

    async def page(request: Request, *, status: int = 200,
                   errors: FormErrors | None = None) -> Response:
        answer = await call(request, "identity", "GET", "/v1/me/invitations") or {}
        return render(request, "invitations.html", status=status, errors=errors,
                      title="Mes invitations", invitations=answer.get("invitations") or [])

    @router.get(PAGE)
    async def invitations(request: Request) -> Response:
        return await page(request)

    @router.post(PAGE + "/{invitation_id}/{answer}")
    async def answer_invitation(request: Request, invitation_id: str, answer: str) -> Response:
        await checked_form(request)
        if answer not in ANSWERS or len(invitation_id) > 100:
            return await page(request, status=404, errors=FormErrors(
                top=["Cette invitation n'existe pas ou plus."]))
        action, notice = ANSWERS[answer]
        try:
            await call(request, "identity", "POST",
                       f"/v1/invitations/{quote(invitation_id, safe='')}/{action}")
        except ApiProblem as exc:  # expired, already answered, structure closed meanwhile…
            return await page(request, status=400,
                              errors=form_errors(exc.code, exc.message, exc.details,
                                                 known=set()))
        return redirect(PAGE, notice)

    return router
