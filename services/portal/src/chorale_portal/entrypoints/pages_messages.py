"""« Mes messages »: the person's notifications inbox (the badge in the header counts the
unread ones), one message, mark it read, and the notification preferences — e-mail on or off
per category, and for the categories that come in bulk (flows rejected, invoices made
available) the frequency: IMMEDIAT, GROUPE or QUOTIDIEN, as the notifications service offers.

Calls the notifications service's `/v1/me/messages` and `/v1/me/preferences` with the person's
token (every signed-in person has an inbox)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import message_text
from chorale_portal.domain.form_errors import FormErrors
from chorale_portal.domain.formatting import page_number
from chorale_portal.entrypoints.web import (
    call,
    checked_form,
    portal_of,
    redirect,
    render,
    signed_in,
)

PAGE_SIZE = 20


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/mes-messages")
    async def inbox(request: Request) -> Response:
        await signed_in(request)
        page = page_number(request.query_params)
        unread_only = request.query_params.get("nonLus") == "1"
        found = await call(request, "notifications", "GET", "/v1/me/messages", params={
            "page": page, "taille": PAGE_SIZE, "nonLus": "true" if unread_only else "false"})
        total = int(found.get("total") or 0)
        pages = max(1, -(-total // PAGE_SIZE))
        base = {"nonLus": "1"} if unread_only else {}
        return render(request, "messages.html", title="Mes messages",
                      messages=found.get("messages", []), total=total, page=page, pages=pages,
                      unread_count=found.get("nonLus", 0), unread_only=unread_only,
                      page_link=lambda n: "/mes-messages?" + urlencode({**base, "page": n}))

    @router.get("/mes-messages/preferences")
    async def preferences(request: Request) -> Response:
        await signed_in(request)
        return await preferences_page(request)

    async def preferences_page(request: Request, *, status: int = 200,
                               errors: FormErrors | None = None) -> Response:
        found = await call(request, "notifications", "GET", "/v1/me/preferences")
        return render(request, "message_preferences.html", status=status, errors=errors,
                      title="Préférences de notification", email=found.get("email", []),
                      frequencies=[{**row, "options": {c["valeur"]: c["libelle"]
                                                       for c in row.get("choix", [])}}
                                   for row in found.get("frequence", [])])

    @router.post("/mes-messages/preferences")
    async def save_preferences(request: Request) -> Response:
        form = await checked_form(request)
        current = await call(request, "notifications", "GET", "/v1/me/preferences")
        email = {row["categorie"]: form.get(f"email-{row['categorie']}") == "on"
                 for row in current.get("email", []) if row.get("modifiable")}
        frequency = {}
        for row in current.get("frequence", []):
            chosen = form.get(f"frequence-{row['categorie']}")
            if isinstance(chosen, str) and chosen:
                frequency[row["categorie"]] = chosen
        try:
            await call(request, "notifications", "PUT", "/v1/me/preferences",
                       json={"email": email, "frequence": frequency})
        except ApiProblem as exc:
            return await preferences_page(request, status=400,
                                          errors=FormErrors(top=[exc.message]))
        return redirect("/mes-messages/preferences", "preferences_enregistrees")

    @router.get("/mes-messages/{message_id}")
    async def message(request: Request, message_id: str) -> Response:
        await signed_in(request)
        found = await call(request, "notifications", "GET",
                           f"/v1/me/messages/{quote(message_id, safe='')}")
        return render(request, "message_read.html", title=found.get("sujet", "Message"),
                      message=found, lines=message_text.pieces(str(found.get("texte") or "")))

    @router.post("/mes-messages/{message_id}/lu")
    async def mark_read(request: Request, message_id: str) -> Response:
        await checked_form(request)
        session = await signed_in(request)
        await call(request, "notifications", "POST",
                   f"/v1/me/messages/{quote(message_id, safe='')}/read")
        portal_of(request).headers.forget(session.id)  # the badge counts one less at once
        return redirect("/mes-messages", "message_lu")

    return router
