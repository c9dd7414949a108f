"""Gestionnaires principaux: one document per structure, ``_id`` = the structure identifier.
A first designation is an insert and a change a compare-and-set on ``version``, so concurrent
designations or transfers leave exactly one GP (the database decides, not the process)."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import Notify, Store, Versioned, fill_memory
from chorale_identity.domain.gestionnaire import GestionnairePrincipal
from chorale_runtime.mongo import IndexSpec

COLLECTION = "gestionnaires"

INDEXES = (IndexSpec(COLLECTION, (("userId", 1),), name="user"),)

StoredGp = Versioned[GestionnairePrincipal]


class GestionnaireMemory:
    """Each structure's GP in memory, on FerretDB only (one process per service database
    there, so this process sees every write): « the structures whose GP I am » is otherwise a
    filter FerretDB evaluates on every document (see ``rattachements.RattachementMemory``)."""

    def __init__(self) -> None:
        self.loaded = False
        self._gp: dict[str, tuple[int, str]] = {}  # structure → (version, user)

    def put(self, gp: GestionnairePrincipal) -> None:
        known = self._gp.get(gp.identifiant_structure)
        if known is None or known[0] <= gp.version:
            self._gp[gp.identifiant_structure] = (gp.version, gp.user_id)

    def structures_of(self, user_id: str) -> list[str]:
        return [s for s, (_, user) in self._gp.items() if user == user_id]


class GestionnaireRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[GestionnairePrincipal] = Store(
            db[COLLECTION], GestionnairePrincipal, notify
        )
        self._db = db
        self.memory: GestionnaireMemory | None = GestionnaireMemory()

    async def load_memory(self) -> None:
        if self.memory is not None and not await fill_memory(self._db, self.store, self.memory):
            self.memory = None

    async def get(self, structure: str) -> StoredGp | None:
        return await self.store.get(structure)

    async def user_of(self, structure: str) -> str | None:
        found = await self.get(structure)
        return found.value.user_id if found else None

    async def add(self, gp: GestionnairePrincipal, events: Sequence[Envelope]) -> None:
        await self.store.insert(gp.identifiant_structure, gp, events)
        if self.memory is not None:
            self.memory.put(gp)

    async def save(
        self, stored: StoredGp, gp: GestionnairePrincipal, events: Sequence[Envelope]
    ) -> None:
        await self.store.replace(gp.identifiant_structure, stored, gp, events)
        if self.memory is not None:
            self.memory.put(gp)

    async def structures_of(self, user_id: str) -> list[str]:
        if self.memory is not None and self.memory.loaded:
            return self.memory.structures_of(user_id)
        return [gp.identifiant_structure for gp in await self.store.find({"userId": user_id})]
