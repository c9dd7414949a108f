"""Single-use links (e-mail verification, password reset): ``_id`` = the token's SHA-256, so
the click reads one document by ``_id``; using a link is a conditional update on ``usedAt``
being null, so two concurrent clicks cannot both succeed."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from chorale_identity.adapters.documents import Store
from chorale_identity.domain.secrets_util import fingerprint
from chorale_identity.domain.verification import VerificationLink

LINKS = "verification_links"


class LinkRepository:
    def __init__(self, db: AsyncDatabase):
        self.store: Store[VerificationLink] = Store(db[LINKS], VerificationLink)

    async def add(self, record: VerificationLink) -> None:
        await self.store.insert(record.token_hash, record)

    async def for_token(self, token: str) -> VerificationLink | None:
        found = await self.store.get(fingerprint(token or ""))
        return found.value if found else None

    async def mark_used(self, record: VerificationLink) -> bool:
        """True if this call used the link (it was still unused)."""
        result = await self.store.col.update_one(
            {"_id": record.token_hash, "usedAt": None}, {"$set": {"usedAt": record.used_at}}
        )
        return result.modified_count == 1

    async def forget_expired(self, before: datetime) -> int:
        result = await self.store.col.delete_many({"expiresAt": {"$lt": before}})
        return result.deleted_count
