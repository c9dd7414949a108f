"""The portal's only data: sign-in sessions and sign-ins waiting for their TOTP code, one
document each, addressed by the SHA-256 of the secret the person's cookie holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

SESSIONS = "sessions"
PENDING_SIGN_INS = "pending_sign_ins"


class SessionStore(Protocol):
    async def get(self, collection: str, record_id: str) -> dict[str, Any] | None: ...

    async def put(self, collection: str, document: dict[str, Any]) -> None: ...

    async def update(self, collection: str, record_id: str, fields: dict[str, Any]) -> None: ...

    async def delete(self, collection: str, record_id: str) -> None: ...

    async def purge_expired(self, now: datetime | None = None) -> int: ...


class MongoSessionStore:
    def __init__(self, db: Any):
        self._db = db

    async def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        return await self._db[collection].find_one({"_id": record_id})

    async def put(self, collection: str, document: dict[str, Any]) -> None:
        await self._db[collection].replace_one({"_id": document["_id"]}, document, upsert=True)

    async def update(self, collection: str, record_id: str, fields: dict[str, Any]) -> None:
        await self._db[collection].update_one({"_id": record_id}, {"$set": fields})

    async def delete(self, collection: str, record_id: str) -> None:
        await self._db[collection].delete_one({"_id": record_id})

    async def purge_expired(self, now: datetime | None = None) -> int:
        """No TTL indexes on FerretDB: expired records are swept by the portal itself."""
        now = now or datetime.now(UTC)
        removed = 0
        for collection in (SESSIONS, PENDING_SIGN_INS):
            result = await self._db[collection].delete_many({"expiresAt": {"$lt": now}})
            removed += result.deleted_count
        return removed
