"""The local read model behind `Authorizer`: each user's grants in one document (`_id` = user
id) and each structure's gestionnaire principal (`_id` = structure), fed by events, read through
an in-process cache kept coherent across replicas (`coherent.py`).

Grant events carry a per-grant `version`; a write only applies if it is newer than what the
document holds, a revocation leaving a tombstone (`revoked.<grantId>: version`), so a replayed
or late event never resurrects a revoked grant nor undoes a newer mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

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
from chorale_runtime.authz.changes import ChangeLog
from chorale_runtime.authz.coherent import CoherentCache, shared
from chorale_runtime.authz.decision import Grant
from chorale_runtime.consumer import Subscription
from chorale_runtime.mongo import upsert_if_newer

_GrantEvent = HabilitationGranted | HabilitationChanged | HabilitationRevoked
USERS = "authz_users"
GESTIONNAIRES = "authz_gestionnaires"
# Per user (`_id` = user id): the structures they were made GP of. FerretDB answers only a
# lookup by `_id` without reading the whole collection, and « the structures I administer »
# would otherwise scan every structure's GP record (seconds at 10,000).
GESTIONNAIRES_BY_USER = "authz_gestionnaires_by_user"
LOOKUPS = "authz_lookups"  # `{_id: GESTIONNAIRES_BY_USER}` once it was filled from the records
_NO_GRANTS: tuple[tuple[Grant, ...], bool] = ((), False)


def user_key(user_id: str) -> str:
    return f"u:{user_id}"


def structure_key(structure: str) -> str:
    return f"g:{structure}"


class AuthzReadModel:
    def __init__(self, db: Any, *, cache: bool = True, **cache_options: Any):
        self._users = db[USERS]
        self._gps = db[GESTIONNAIRES]
        self._by_user = db[GESTIONNAIRES_BY_USER]
        self._lookups = db[LOOKUPS]
        self._by_user_ready = False
        self._changes = ChangeLog(db)
        self.cache: CoherentCache | None = shared(db, self, **cache_options) if cache else None

    # -- reads (what decisions use) ---------------------------------------------------------
    async def user(self, user_id: str) -> tuple[list[Grant], bool]:
        """The user's grants and whether the account is deactivated."""
        key = user_key(user_id)
        grants, deactivated = await (self.cache.read(key) if self.cache else self.load(key))
        return list(grants), deactivated

    async def gestionnaire_principal(self, structure: str) -> str | None:
        key = structure_key(structure)
        return await (self.cache.read(key) if self.cache else self.load(key))

    async def structures_of_gestionnaire(self, user_id: str) -> list[str]:
        """The structures whose GP the user is. The per-user list only names candidates (the
        fill at start or a replayed transfer can leave a former GP's entry): each is confirmed
        against the structure's own record, read through the cache."""
        if not await self._by_user_filled():
            return [doc["_id"] async for doc in self._gps.find({"userId": user_id}, {"_id": 1})]
        doc = await self._by_user.find_one({"_id": user_id})
        return [s for s in (doc or {}).get("structures") or ()
                if await self.gestionnaire_principal(s) == user_id]

    async def fill_gestionnaires_by_user(self) -> None:
        """Once per database: list every GP record by user (those written before the per-user
        lists existed); later designations keep the lists current themselves."""
        if await self._by_user_filled():
            return
        async for doc in self._gps.find({}):
            if doc.get("userId"):
                await self._by_user.update_one({"_id": doc["userId"]},
                                               {"$addToSet": {"structures": doc["_id"]}},
                                               upsert=True)
        await self._lookups.update_one({"_id": GESTIONNAIRES_BY_USER},
                                       {"$set": {"filled": True}}, upsert=True)
        self._by_user_ready = True

    async def _by_user_filled(self) -> bool:
        if not self._by_user_ready:
            self._by_user_ready = bool(
                await self._lookups.find_one({"_id": GESTIONNAIRES_BY_USER}))
        return self._by_user_ready

    # -- the cache's loader -------------------------------------------------------------------
    async def load(self, key: str) -> Any:
        return (await self.load_many([key]))[key]

    async def load_many(self, keys: Iterable[str]) -> dict[str, Any]:
        users = [k[2:] for k in keys if k.startswith("u:")]
        structures = [k[2:] for k in keys if k.startswith("g:")]
        found: dict[str, Any] = {user_key(u): _NO_GRANTS for u in users}
        found.update({structure_key(s): None for s in structures})
        for doc in await _by_ids(self._users, users, {"revoked": 0}):
            found[user_key(doc["_id"])] = _user_value(doc)
        for doc in await _by_ids(self._gps, structures):
            found[structure_key(doc["_id"])] = doc.get("userId")
        return found

    async def load_all(self, limit: int) -> AsyncIterator[tuple[str, Any]]:
        count = 0
        async for doc in self._users.find({}, {"revoked": 0}):
            yield user_key(doc["_id"]), _user_value(doc)
            count += 1
            if count >= limit:
                return
        async for doc in self._gps.find({}):
            yield structure_key(doc["_id"]), doc.get("userId")
            count += 1
            if count >= limit:
                return

    # -- event handlers (idempotent; stale versions are ignored) -----------------------------
    async def put_grant(self, event: HabilitationGranted | HabilitationChanged) -> None:
        await self._guarded(
            event,
            {"$set": {f"grants.{event.grantId}": _grant_doc(event)},
             "$unset": {f"revoked.{event.grantId}": ""}},
        )

    async def remove_grant(self, event: HabilitationRevoked) -> None:
        await self._guarded(
            event,
            {"$unset": {f"grants.{event.grantId}": ""},
             "$set": {f"revoked.{event.grantId}": event.version}},
        )

    async def set_gestionnaire(self, structure: str, user_id: str) -> None:
        previous = await self._gps.find_one({"_id": structure})
        await self._gps.update_one({"_id": structure}, {"$set": {"userId": user_id}}, upsert=True)
        await self._by_user.update_one({"_id": user_id}, {"$addToSet": {"structures": structure}},
                                       upsert=True)
        former = (previous or {}).get("userId")
        if former and former != user_id:  # $pullAll: FerretDB's $pull ignores conditions
            await self._by_user.update_one({"_id": former},
                                           {"$pullAll": {"structures": [structure]}})
        await self._changed(structure_key(structure))

    async def deactivate_user(self, user_id: str) -> None:
        await self._users.update_one({"_id": user_id}, {"$set": {"deactivated": True}},
                                     upsert=True)
        await self._changed(user_key(user_id))

    async def _guarded(self, event: _GrantEvent, update: dict) -> None:
        await upsert_if_newer(self._users, {"_id": event.userId}, update, [
            (f"grants.{event.grantId}.version", event.version),
            (f"revoked.{event.grantId}", event.version),
        ])
        await self._changed(user_key(event.userId))

    async def _changed(self, key: str) -> None:
        # This process at once; the other replicas through the change feed (written after the
        # read model, and announced even for a replay whose write found nothing to do).
        if self.cache is not None:
            self.cache.invalidate([key])
        await self._changes.announce([key])


async def _by_ids(collection: Any, ids: list[str], projection: Any = None) -> list[dict]:
    if not ids:
        return []
    if len(ids) == 1:  # a lone `_id` equality is the only filter FerretDB pushes down
        doc = await collection.find_one({"_id": ids[0]}, projection)
        return [doc] if doc else []
    return await collection.find({"_id": {"$in": ids}}, projection).to_list(None)


def _user_value(doc: dict[str, Any]) -> tuple[tuple[Grant, ...], bool]:
    user_id = doc["_id"]
    grants = tuple(
        Grant(gid, user_id, g["structure"], Application(g["application"]), Mode(g["mode"]),
              g.get("codeService"))
        for gid, g in (doc.get("grants") or {}).items()
    )
    return grants, bool(doc.get("deactivated"))


def _grant_doc(event: HabilitationGranted | HabilitationChanged) -> dict[str, Any]:
    return {
        "structure": event.structure,
        "codeService": event.codeService,
        "application": event.application.value,
        "mode": event.mode.value,
        "version": event.version,
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
