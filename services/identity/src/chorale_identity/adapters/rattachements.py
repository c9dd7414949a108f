"""Rattachements (``_id`` = rattachement id). "At most one pending or valid rattachement per
(user, structure, service)" is a unique index on ``liveKey``: that key while the rattachement
is live, a value of its own (``closed:<id>``) once refused or detached. New live rattachements
are always inserts, so two concurrent requests cannot both pass (no partial index needed; an
update never moves a document *into* the live key, which FerretDB would report as an internal
error rather than a duplicate key)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import Notify, Store, Versioned, fill_memory
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


class RattachementMemory:
    """Every rattachement in memory, by id, structure and user, on FerretDB only.

    FerretDB 1.24 filters anything but an exact ``_id`` in Go, decoding every document: the
    lists by structure or user took 2 s with 2,000 rattachements, and « Mes approbations » is
    asked for the portal's menu. There one process serves a service's database, so this process
    sees every write (``put`` after each); on MongoDB the indexes answer (see ``load_memory``). A
    rattachement's user and structure never change; the newest state wins (``updatedAt``).
    """

    def __init__(self) -> None:
        self.loaded = False
        self._by_id: dict[str, Rattachement] = {}
        self._by_structure: dict[str, set[str]] = {}
        self._by_user: dict[str, set[str]] = {}

    def put(self, r: Rattachement) -> None:
        known = self._by_id.get(r.id)
        if known is not None and known.updated_at > r.updated_at:
            return
        self._by_id[r.id] = r
        self._by_structure.setdefault(r.identifiant_structure, set()).add(r.id)
        self._by_user.setdefault(r.user_id, set()).add(r.id)

    def of_structures(self, structures: Iterable[str]) -> list[Rattachement]:
        return [self._by_id[i] for s in structures for i in self._by_structure.get(s, ())]

    def of_user(self, user_id: str, structure: str | None) -> list[Rattachement]:
        found = (self._by_id[i] for i in self._by_user.get(user_id, ()))
        return [r for r in found if structure is None or r.identifiant_structure == structure]


class RattachementRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[Rattachement] = Store(db[COLLECTION], Rattachement, notify, (LIVE_KEY,))
        self._db = db
        self.memory: RattachementMemory | None = RattachementMemory()

    async def load_memory(self) -> None:
        """On FerretDB, read every rattachement once; the lists are then answered from memory.
        On MongoDB, drop the memory (several replicas may write; the indexes answer)."""
        if self.memory is not None and not await fill_memory(self._db, self.store, self.memory):
            self.memory = None

    def _remember(self, r: Rattachement) -> None:
        if self.memory is not None:
            self.memory.put(r)

    async def add(self, r: Rattachement, events: Sequence[Envelope]) -> None:
        """Raise ``AlreadyExists`` when a live one holds the key (or the id is taken)."""
        await self.store.insert(r.id, r, events, {LIVE_KEY: live_key(r)})
        self._remember(r)

    async def get(self, rattachement_id: str) -> Versioned[Rattachement] | None:
        return await self.store.get(rattachement_id)

    async def save(
        self, stored: Versioned[Rattachement], r: Rattachement, events: Sequence[Envelope]
    ) -> None:
        await self.store.replace(r.id, stored, r, events, {LIVE_KEY: live_key(r)})
        self._remember(r)

    async def live(
        self, user_id: str, structure: str, code_service: str | None
    ) -> Rattachement | None:
        key = "|".join((user_id, structure, code_service or "-"))
        found = await self.store.find({LIVE_KEY: key})
        return found[0] if found else None

    async def of_user(self, user_id: str, structure: str | None = None) -> list[Rattachement]:
        if self.memory is not None and self.memory.loaded:
            return self.memory.of_user(user_id, structure)
        query = {"userId": user_id}
        if structure is not None:
            query["identifiantStructure"] = structure
        return await self.store.find(query)

    async def of_structure(self, structure: str) -> list[Rattachement]:
        if self.memory is not None and self.memory.loaded:
            return self.memory.of_structures([structure])
        return await self.store.find({"identifiantStructure": structure})

    async def of_structures(self, structures: Sequence[str]) -> list[Rattachement]:
        if not structures:
            return []
        if self.memory is not None and self.memory.loaded:
            return self.memory.of_structures(structures)
        return await self.store.find({"identifiantStructure": {"$in": list(structures)}})
