"""The notifications service's read models, built only from events:

- `rm_users` (`_id` = user id): contact e-mail, names, active;
- `rm_structures` (`_id` = SIRET): name (directory snapshots), gestionnaire principal, grants
  (`grants.<grantId>`, with a version so stale updates are dropped) and attached users
  (`members.<rattachementId>`).

One document per user and per structure, so choosing recipients costs primary-key reads.
Every write is idempotent (set semantics, versions), as replays after a crash require. A batch
of events is folded first (`domain/read_model_changes.py`) and `apply` writes each touched
document once."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_notifications.domain import recipients
from chorale_notifications.domain.read_model_changes import ReadModelChanges, StructureChanges

USERS = "rm_users"
STRUCTURES = "rm_structures"


class People:
    def __init__(self, db: AsyncDatabase):
        self._col = db[USERS]

    async def put(self, user_id: str, **fields: Any) -> None:
        values = {k: v for k, v in fields.items() if v is not None}
        await self._col.update_one({"_id": user_id}, {"$set": values}, upsert=True)

    async def get(self, user_id: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": user_id})

    async def many(self, user_ids: set[str]) -> dict[str, dict[str, Any]]:
        if not user_ids:
            return {}
        docs = await self._col.find({"_id": {"$in": sorted(user_ids)}}).to_list(None)
        return {d["_id"]: d for d in docs}

    async def active(self, user_ids: set[str]) -> set[str]:
        """Drop deactivated accounts (unknown ones stay: their mail waits for their profile)."""
        known = await self.many(user_ids)
        return {u for u in user_ids if known.get(u, {}).get("active", True)}


class Organisation:
    def __init__(self, db: AsyncDatabase):
        self._col = db[STRUCTURES]

    async def get(self, structure: str) -> dict[str, Any]:
        return await self._col.find_one({"_id": structure}) or {"_id": structure}

    async def name(self, structure: str) -> str | None:
        doc = await self._col.find_one({"_id": structure}, {"raisonSociale": 1})
        return (doc or {}).get("raisonSociale")

    async def _set(self, structure: str, values: dict[str, Any]) -> None:
        await self._col.update_one({"_id": structure}, {"$set": values}, upsert=True)

    async def put_snapshot(self, structure: str, raison_sociale: str, version: int) -> None:
        doc = await self._col.find_one({"_id": structure}, {"directoryVersion": 1})
        if doc and doc.get("directoryVersion", -1) >= version:
            return  # an older snapshot (compacted topic replays): keep what we have
        await self._set(structure, {"raisonSociale": raison_sociale,
                                    "directoryVersion": version})

    async def set_gestionnaire(self, structure: str, user_id: str) -> None:
        await self._set(structure, {"gp": user_id})

    async def put_grant(self, grant_id: str, version: int, grant: dict[str, Any]) -> None:
        structure = grant["structure"]
        doc = await self._col.find_one({"_id": structure}, {f"grants.{grant_id}": 1})
        held = ((doc or {}).get("grants") or {}).get(grant_id)
        if held and held.get("version", 0) >= version:
            return
        await self._set(structure, {f"grants.{grant_id}": {**grant, "version": version}})

    async def put_member(self, structure: str, rattachement_id: str, user_id: str,
                         code_service: str | None, active: bool) -> None:
        await self._set(structure, {f"members.{rattachement_id}": {
            "userId": user_id, "codeService": code_service, "active": active,
        }})

    async def apply(self, structure: str, changes: StructureChanges) -> None:
        stored: dict[str, Any] = {}
        if changes.needs_stored:
            fields = {"directoryVersion": 1, **{f"grants.{g}.version": 1 for g in changes.grants}}
            stored = await self._col.find_one({"_id": structure}, fields) or {}
        values = changes.resolve(stored)
        if values:
            await self._set(structure, values)

    # -- questions the notifier asks ---------------------------------------------------------
    async def gestionnaires(self, structure: str, code_service: str | None) -> set[str]:
        doc = await self.get(structure)
        grants = recipients.live_grants(doc.get("grants") or {})
        return recipients.gestionnaires(doc.get("gp"), grants, code_service)

    async def invoice_readers(self, structure: str, code_service: str | None) -> set[str]:
        doc = await self.get(structure)
        return recipients.invoice_readers(
            recipients.live_grants(doc.get("grants") or {}), code_service
        )

    async def invoice_issuers(self, structure: str) -> set[str]:
        doc = await self.get(structure)
        return recipients.invoice_issuers(recipients.live_grants(doc.get("grants") or {}))

    async def attached_users(self, structure: str) -> set[str]:
        doc = await self.get(structure)
        return recipients.attached_users(doc.get("gp"), doc.get("members") or {})


class StructureNames:
    """A structure's name for messages: the directory's, else the one `structure.created`
    gave (the walking skeleton's `known_structures`), else its identifier alone."""

    def __init__(self, org: Organisation, known: Any):
        self._org = org
        self._known = known

    async def label(self, structure: str) -> str:
        name = await self._org.name(structure)
        if not name:
            name = ((await self._known.get(structure)) or {}).get("raisonSociale")
        return f"{name} ({structure})" if name else structure


async def apply_changes(people: People, org: Organisation, changes: ReadModelChanges) -> None:
    """One write per touched document, the documents written concurrently."""
    await asyncio.gather(
        *(people.put(user_id, **values) for user_id, values in changes.users.items()
          if values),
        *(org.apply(structure, c) for structure, c in changes.structures.items()),
    )
