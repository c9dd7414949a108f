"""Technical accounts: ``_id`` = the client id, because exchanging client credentials for a
token is the hot path; management by account id (the token ``sub``) goes through an index."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import Notify, Store, Versioned
from chorale_identity.domain.technical_accounts import TechnicalAccount, TechnicalAccountStatus
from chorale_runtime.mongo import IndexSpec

COLLECTION = "technical_accounts"

INDEXES = (
    IndexSpec(COLLECTION, (("id", 1),), unique=True, name="account_id_unique"),
    IndexSpec(COLLECTION, (("identifiantStructure", 1),), name="structure"),
)

StoredTechnicalAccount = Versioned[TechnicalAccount]


class TechnicalAccountRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[TechnicalAccount] = Store(db[COLLECTION], TechnicalAccount, notify)

    async def add(self, account: TechnicalAccount, events: Sequence[Envelope]) -> None:
        await self.store.insert(account.client_id, account, events)

    async def by_client_id(self, client_id: str) -> StoredTechnicalAccount | None:
        return await self.store.get(client_id)

    async def by_id(self, account_id: str) -> StoredTechnicalAccount | None:
        return self.store.load(await self.store.col.find_one({"id": account_id}, {"outbox": 0}))

    async def save(
        self,
        stored: StoredTechnicalAccount,
        account: TechnicalAccount,
        events: Sequence[Envelope] = (),
    ) -> None:
        await self.store.replace(account.client_id, stored, account, events)

    async def touch(self, account: TechnicalAccount) -> bool:
        """Record the last use, unless the account was revoked meanwhile."""
        result = await self.store.col.update_one(
            {"_id": account.client_id, "status": TechnicalAccountStatus.ACTIVE.value},
            {"$set": {"lastUsedAt": account.last_used_at}},
        )
        return result.matched_count == 1

    async def of_structure(self, structure: str) -> list[TechnicalAccount]:
        return await self.store.find({"identifiantStructure": structure}, sort=[("createdAt", 1)])
