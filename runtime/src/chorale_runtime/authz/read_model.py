"""The local read model behind `Authorizer`: each user's grants in one document (`_id` = user
id, so a decision costs one primary-key read) and each structure's gestionnaire principal."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope, Topic
from chorale_contracts.events.common import Application, Mode
from chorale_contracts.events.habilitations import (
    HabilitationChanged,
    HabilitationGranted,
    HabilitationRevoked,
)
from chorale_contracts.events.identity import (
    GestionnaireDesignated,
    GestionnaireTransferred,
    UserDeactivated,
)
from chorale_runtime.authz.decision import Grant
from chorale_runtime.consumer import Subscription

USERS = "authz_users"
GESTIONNAIRES = "authz_gestionnaires"


class AuthzReadModel:
    def __init__(self, db: AsyncDatabase):
        self._users = db[USERS]
        self._gps = db[GESTIONNAIRES]

    async def user(self, user_id: str) -> tuple[list[Grant], bool]:
        """The user's grants and whether the account is deactivated."""
        doc = await self._users.find_one({"_id": user_id})
        if doc is None:
            return [], False
        # Enums, not the stored strings: the decision compares modes by identity.
        grants = [
            Grant(gid, user_id, g["structure"], Application(g["application"]), Mode(g["mode"]),
                  g.get("codeService"))
            for gid, g in (doc.get("grants") or {}).items()
        ]
        return grants, bool(doc.get("deactivated"))

    async def gestionnaire_principal(self, structure: str) -> str | None:
        doc = await self._gps.find_one({"_id": structure})
        return doc["userId"] if doc else None

    # -- event handlers (idempotent: replays set the same values) ---------------------------
    async def put_grant(self, event: HabilitationGranted | HabilitationChanged) -> None:
        await self._users.update_one(
            {"_id": event.userId},
            {"$set": {f"grants.{event.grantId}": _grant_doc(event)}},
            upsert=True,
        )

    async def remove_grant(self, event: HabilitationRevoked) -> None:
        await self._users.update_one(
            {"_id": event.userId}, {"$unset": {f"grants.{event.grantId}": ""}}
        )

    async def set_gestionnaire(self, structure: str, user_id: str) -> None:
        await self._gps.update_one(
            {"_id": structure}, {"$set": {"userId": user_id}}, upsert=True
        )

    async def deactivate_user(self, user_id: str) -> None:
        await self._users.update_one(
            {"_id": user_id}, {"$set": {"deactivated": True}}, upsert=True
        )


def _grant_doc(event: HabilitationGranted | HabilitationChanged) -> dict[str, Any]:
    return {
        "structure": event.structure,
        "codeService": event.codeService,
        "application": event.application.value,
        "mode": event.mode.value,
    }


def authz_subscription(model: AuthzReadModel) -> Subscription:
    async def granted(_e: Envelope, event: HabilitationGranted | HabilitationChanged) -> None:
        await model.put_grant(event)

    async def revoked(_e: Envelope, event: HabilitationRevoked) -> None:
        await model.remove_grant(event)

    async def designated(_e: Envelope, event: GestionnaireDesignated) -> None:
        await model.set_gestionnaire(event.structure, event.userId)

    async def transferred(_e: Envelope, event: GestionnaireTransferred) -> None:
        await model.set_gestionnaire(event.structure, event.toUserId)

    async def deactivated(_e: Envelope, event: UserDeactivated) -> None:
        await model.deactivate_user(event.userId)

    return Subscription(
        name="authz",
        topics=(Topic.HABILITATIONS, Topic.IDENTITY),
        handlers={
            HabilitationGranted.event_type: granted,
            HabilitationChanged.event_type: granted,
            HabilitationRevoked.event_type: revoked,
            GestionnaireDesignated.event_type: designated,
            GestionnaireTransferred.event_type: transferred,
            UserDeactivated.event_type: deactivated,
        },
        description="Local read model of grants and gestionnaires principaux for authorization",
    )
