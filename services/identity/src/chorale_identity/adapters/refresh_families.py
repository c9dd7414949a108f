"""Refresh-token families: ``refresh_families`` (``_id`` = family id) and ``refresh_tokens``
(``_id`` = a token's SHA-256 → family id), so presenting a token reads two documents by ``_id``.

Rotation writes the new token's index entry first, then moves the family with a
compare-and-set on the ``currentHash`` it read: a crash in between leaves an index entry
pointing at a family that does not know the hash (refused as invalid), never a usable token
without its family. Index entries of retired tokens stay, so reuse is still detected.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from chorale_identity.adapters.documents import ConcurrentUpdate, Store, to_document
from chorale_identity.domain.refresh_tokens import RefreshFamily
from chorale_identity.domain.secrets_util import fingerprint

FAMILIES = "refresh_families"
TOKENS = "refresh_tokens"


class RefreshFamilyRepository:
    def __init__(self, db: AsyncDatabase):
        self.store: Store[RefreshFamily] = Store(db[FAMILIES], RefreshFamily)
        self._tokens = db[TOKENS]

    async def _index(self, token_hash: str, family: RefreshFamily) -> None:
        await self._tokens.insert_one(
            {"_id": token_hash, "familyId": family.family_id, "expiresAt": family.expires_at}
        )

    async def add(self, family: RefreshFamily) -> None:
        await self.store.insert(family.family_id, family)
        await self._index(family.current_hash, family)

    async def for_token(self, token: str) -> RefreshFamily | None:
        entry = await self._tokens.find_one({"_id": fingerprint(token or "")})
        if entry is None:
            return None
        found = await self.store.get(entry["familyId"])
        return found.value if found else None

    async def save(self, before: RefreshFamily, after: RefreshFamily) -> None:
        """Compare-and-set on the hash that was current when ``before`` was read."""
        if after.current_hash != before.current_hash:
            await self._index(after.current_hash, after)
        result = await self.store.col.update_one(
            {"_id": before.family_id, "currentHash": before.current_hash},
            {"$set": to_document(after), "$inc": {"version": 1}},
        )
        if result.modified_count != 1:
            raise ConcurrentUpdate(f"{FAMILIES}/{before.family_id}")

    async def forget_expired(self, before: datetime) -> int:
        removed = await self._tokens.delete_many({"expiresAt": {"$lt": before}})
        await self.store.col.delete_many({"expiresAt": {"$lt": before}})
        return removed.deleted_count
