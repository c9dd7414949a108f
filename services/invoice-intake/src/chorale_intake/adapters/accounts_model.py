"""The intake's read model of technical accounts (`chorale.identity.v1`): which accounts exist,
the structure each deposits for, and which are revoked. In memory, backed by insert-only
documents (`technical_accounts`, `technical_account_revocations`), like the directory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts.events.identity import TechnicalAccountCreated, TechnicalAccountRevoked
from chorale_runtime.mongo import insert_once

ACCOUNTS = "technical_accounts"
REVOCATIONS = "technical_account_revocations"


@dataclass(frozen=True)
class TechnicalAccount:
    id: str
    structure: str
    client_id: str | None
    revoked: bool = False


class AccountsModel:
    def __init__(
        self,
        db: AsyncDatabase,
        on_active: Callable[[TechnicalAccount], Awaitable[None]] | None = None,
    ):
        self._accounts = db[ACCOUNTS]
        self._revocations = db[REVOCATIONS]
        self._by_id: dict[str, TechnicalAccount] = {}
        self._on_active = on_active
        self._loaded = False
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded

    def get(self, account_id: str) -> TechnicalAccount | None:
        return self._by_id.get(account_id)

    def active(self) -> list[TechnicalAccount]:
        return [a for a in self._by_id.values() if not a.revoked]

    async def load(self) -> None:
        async with self._lock:
            if self._loaded:
                return
            async for doc in self._accounts.find({}):
                self._by_id[doc["_id"]] = TechnicalAccount(
                    doc["_id"], doc["structure"], doc.get("clientId")
                )
            async for doc in self._revocations.find({}):
                self._revoke_in_memory(doc["_id"], doc["structure"])
            self._loaded = True
            known = self.active()
        if self._on_active is not None:  # e.g. folders of accounts created before a new root
            for account in known:
                await self._on_active(account)

    async def _insert(self, collection: object, doc: dict[str, object]) -> None:
        await insert_once(collection, doc)

    async def created(self, event: TechnicalAccountCreated) -> None:
        await self.load()
        await self._insert(
            self._accounts,
            {"_id": event.technicalAccountId, "structure": event.structure,
             "clientId": event.clientId},
        )
        known = self._by_id.get(event.technicalAccountId)
        if known is None:
            known = TechnicalAccount(event.technicalAccountId, event.structure, event.clientId)
            self._by_id[known.id] = known
        if not known.revoked and self._on_active is not None:
            await self._on_active(known)

    async def revoked(self, event: TechnicalAccountRevoked) -> None:
        await self.load()
        await self._insert(
            self._revocations, {"_id": event.technicalAccountId, "structure": event.structure}
        )
        self._revoke_in_memory(event.technicalAccountId, event.structure)

    def _revoke_in_memory(self, account_id: str, structure: str) -> None:
        known = self._by_id.get(account_id)
        self._by_id[account_id] = TechnicalAccount(
            account_id, known.structure if known else structure,
            known.client_id if known else None, revoked=True,
        )
