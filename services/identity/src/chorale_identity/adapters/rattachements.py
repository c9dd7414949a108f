"""Rattachements (``_id`` = rattachement id). "At most one pending or valid rattachement per
(user, structure, service)" is a unique index on ``liveKey``: that key while the rattachement
is live, a value of its own (``closed:<id>``) once refused or detached. New live rattachements
are always inserts, so two concurrent requests cannot both pass (no partial index needed; an
update never moves a document *into* the live key, which FerretDB would report as an internal
error rather than a duplicate key)."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import Notify, Store, Versioned
from chorale_identity.domain.rattachements import Rattachement
from chorale_runtime.mongo import IndexSpec

COLLECTION = "rattachements"
LIVE_KEY = "liveKey"

INDEXES = (
    IndexSpec(COLLECTION, ((LIVE_KEY, 1),), unique=True, name="live_key_unique"),
    IndexSpec(COLLECTION, (("userId", 1),), name="user"),
    IndexSpec(COLLECTION, (("identifiantStructure", 1),), name="structure"),
)


def live_key(r: Rattachement) -> str:
    if r.is_live:
        return "|".join((r.user_id, r.identifiant_structure, r.code_service or "-"))
    return f"closed:{r.id}"


class RattachementRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[Rattachement] = Store(db[COLLECTION], Rattachement, notify, (LIVE_KEY,))

    async def add(self, r: Rattachement, events: Sequence[Envelope]) -> None:
        """Raise ``AlreadyExists`` when a live one holds the key (or the id is taken)."""
        await self.store.insert(r.id, r, events, {LIVE_KEY: live_key(r)})

    async def get(self, rattachement_id: str) -> Versioned[Rattachement] | None:
        return await self.store.get(rattachement_id)

    async def save(
        self, stored: Versioned[Rattachement], r: Rattachement, events: Sequence[Envelope]
    ) -> None:
        await self.store.replace(r.id, stored, r, events, {LIVE_KEY: live_key(r)})

    async def live(
        self, user_id: str, structure: str, code_service: str | None
    ) -> Rattachement | None:
        key = "|".join((user_id, structure, code_service or "-"))
        found = await self.store.find({LIVE_KEY: key})
        return found[0] if found else None

    async def of_user(self, user_id: str, structure: str | None = None) -> list[Rattachement]:
        query = {"userId": user_id}
        if structure is not None:
            query["identifiantStructure"] = structure
        return await self.store.find(query)

    async def of_structure(self, structure: str) -> list[Rattachement]:
        return await self.store.find({"identifiantStructure": structure})

    async def of_structures(self, structures: Sequence[str]) -> list[Rattachement]:
        if not structures:
            return []
        return await self.store.find({"identifiantStructure": {"$in": list(structures)}})
