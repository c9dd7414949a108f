"""The user's own space: "Mes messages" and notification preferences."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from chorale_notifications.adapters.inbox import Inbox, Preferences
from chorale_notifications.domain import errors
from chorale_notifications.domain.categories import LABELS, MANDATORY, Category, email_enabled
from chorale_notifications.domain.frequency import DEFAULT, GROUPABLE, Frequency, frequency_of
from chorale_runtime.auth import Principal
from chorale_runtime.errors import forbidden


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: dict[str, bool] = {}
    frequence: dict[str, str] = {}


def message_view(doc: dict[str, Any], *, with_html: bool = False) -> dict[str, Any]:
    view = {
        "id": doc["_id"],
        "categorie": doc["categorie"],
        "libelleCategorie": LABELS[Category(doc["categorie"])],
        "sujet": doc["sujet"],
        "texte": doc["texte"],
        "lu": bool(doc.get("lu")),
        "dateCreation": doc["createdAt"],
        "dateLecture": doc.get("luLe"),
    }
    if with_html:
        view["html"] = doc.get("html")
    return view


def preferences_view(choices: dict[str, bool], frequencies: dict[str, str] | None = None,
                     frequency_labels: dict[Frequency, str] | None = None,
                     default: Frequency = DEFAULT) -> dict[str, Any]:
    view: dict[str, Any] = {"email": [
        {"categorie": c.value, "libelle": LABELS[c], "actif": email_enabled(c, choices),
         "modifiable": c not in MANDATORY}
        for c in Category
    ]}
    if frequency_labels is not None:
        view["frequence"] = [
            {"categorie": c.value, "libelle": LABELS[c],
             "valeur": frequency_of(c, frequencies or {}, default).value,
             "choix": [{"valeur": f.value, "libelle": label}
                       for f, label in frequency_labels.items()]}
            for c in Category if c in GROUPABLE
        ]
    return view


def me_router(inbox: Inbox, preferences: Preferences, current: Any,
              frequency_labels: dict[Frequency, str] | None = None,
              default_frequency: Frequency = DEFAULT) -> APIRouter:
    labels = frequency_labels or {f: f.value for f in Frequency}
    router = APIRouter(prefix="/v1/me", tags=["Mes messages"])

    async def user(principal: Annotated[Principal, Depends(current)]) -> str:
        if principal.is_technical:
            raise forbidden("Un compte technique n'a pas de messagerie.")
        return principal.subject

    UserId = Annotated[str, Depends(user)]

    @router.get("/messages", summary="Mes messages, du plus récent au plus ancien")
    async def list_messages(
        user_id: UserId,
        page: Annotated[int, Query(ge=1)] = 1,
        taille: Annotated[int, Query(ge=1, le=100)] = 20,
        non_lus: Annotated[bool, Query(alias="nonLus", description="non lus seulement")] = False,
    ) -> dict[str, Any]:
        docs, total = await inbox.page(user_id, unread_only=non_lus,
                                       offset=(page - 1) * taille, limit=taille)
        return {"messages": [message_view(d) for d in docs], "page": page, "taille": taille,
                "total": total, "nonLus": await inbox.unread_count(user_id)}

    @router.get("/messages/unread-count", summary="Nombre de messages non lus")
    async def unread_count(user_id: UserId) -> dict[str, int]:
        return {"nonLus": await inbox.unread_count(user_id)}

    @router.get("/messages/{message_id}", summary="Un message, avec sa version HTML")
    async def get_message(message_id: str, user_id: UserId) -> dict[str, Any]:
        doc = await inbox.get(user_id, message_id)
        if doc is None:
            raise errors.message_not_found(message_id)
        return message_view(doc, with_html=True)

    @router.post("/messages/{message_id}/read", summary="Marquer un message comme lu")
    async def mark_read(message_id: str, user_id: UserId) -> dict[str, Any]:
        doc = await inbox.mark_read(user_id, message_id)
        if doc is None:
            raise errors.message_not_found(message_id)
        return message_view(doc)

    async def view(user_id: str) -> dict[str, Any]:
        return preferences_view(await preferences.email_choices(user_id),
                                await preferences.frequency_choices(user_id), labels,
                                default_frequency)

    @router.get("/preferences",
                summary="Courriel activé ou non, et fréquence des notifications groupables")
    async def get_preferences(user_id: UserId) -> dict[str, Any]:
        return await view(user_id)

    @router.put("/preferences",
                summary="Activer ou désactiver le courriel ; immédiat, groupé ou quotidien")
    async def put_preferences(body: PreferencesUpdate,
                              user_id: UserId) -> dict[str, Any]:
        for name, on in body.email.items():
            if name not in Category.__members__:
                raise errors.category_unknown(name)
            if Category(name) in MANDATORY and not on:
                raise errors.preference_mandatory(name)
        for name, value in body.frequence.items():
            if name not in Category.__members__:
                raise errors.category_unknown(name)
            if Category(name) not in GROUPABLE:
                raise errors.frequency_not_modifiable(name)
            if value not in Frequency.__members__:
                raise errors.frequency_unknown(value)
        await preferences.set_email_choices(user_id, body.email)
        await preferences.set_frequency_choices(user_id, body.frequence)
        return await view(user_id)

    return router
