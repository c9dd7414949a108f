"""Gestionnaires principaux: one document per structure, ``_id`` = the structure identifier.
A first designation is an insert and a change a compare-and-set on ``version``, so concurrent
designations or transfers leave exactly one GP (the database decides, not the process)."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import Notify, Store, Versioned
from chorale_identity.domain.gestionnaire import GestionnairePrincipal
from chorale_runtime.mongo import IndexSpec

COLLECTION = "gestionnaires"

INDEXES = (IndexSpec(COLLECTION, (("userId", 1),), name="user"),)

StoredGp = Versioned[GestionnairePrincipal]


class GestionnaireRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[GestionnairePrincipal] = Store(
            db[COLLECTION], GestionnairePrincipal, notify
        )

    async def get(self, structure: str) -> StoredGp | None:
        return await self.store.get(structure)

    async def user_of(self, structure: str) -> str | None:
        found = await self.get(structure)
        return found.value.user_id if found else None

    async def add(self, gp: GestionnairePrincipal, events: Sequence[Envelope]) -> None:
        await self.store.insert(gp.identifiant_structure, gp, events)

    async def save(
        self, stored: StoredGp, gp: GestionnairePrincipal, events: Sequence[Envelope]
    ) -> None:
        await self.store.replace(gp.identifiant_structure, stored, gp, events)

    async def structures_of(self, user_id: str) -> list[str]:
        return [gp.identifiant_structure for gp in await self.store.find({"userId": user_id})]
