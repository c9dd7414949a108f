"""Single-use links (e-mail verification, password reset): ``_id`` = the link id, so minting
and the click read one document by ``_id``. The usable token is never stored, only its
SHA-256 (``tokenHash``). Minting and using are conditional updates on the link being unused
and still holding the token they read, so a click and a re-mint, or two clicks, cannot both
win."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_identity.adapters.documents import Store
from chorale_identity.domain.verification import VerificationLink, link_id_of

LINKS = "verification_links"


def _read(doc: dict[str, Any]) -> dict[str, Any]:
    # An earlier version stored links under the token's fingerprint, with no ``linkId``.
    return doc if "linkId" in doc else {**doc, "linkId": doc["_id"]}


class LinkRepository:
    def __init__(self, db: AsyncDatabase):
        self.store: Store[VerificationLink] = Store(
            db[LINKS], VerificationLink, from_stored=_read
        )

    async def add(self, record: VerificationLink) -> None:
        await self.store.insert(record.link_id, record)

    async def get(self, link_id: str) -> VerificationLink | None:
        found = await self.store.get(link_id)
        return found.value if found else None

    async def for_token(self, token: str) -> VerificationLink | None:
        return await self.get(link_id_of(token or ""))

    async def replace_token(self, read: VerificationLink, minted: VerificationLink) -> bool:
        """Store ``minted``'s token if the link is still unused and holds ``read``'s."""
        result = await self.store.col.update_one(
            {"_id": read.link_id, "usedAt": None, "tokenHash": read.token_hash},
            {"$set": {"tokenHash": minted.token_hash, "mintedAt": minted.minted_at}},
        )
        return result.modified_count == 1

    async def mark_used(self, record: VerificationLink) -> bool:
        """True if this call used the link (still unused, still the token presented)."""
        result = await self.store.col.update_one(
            {"_id": record.link_id, "usedAt": None, "tokenHash": record.token_hash},
            {"$set": {"usedAt": record.used_at}},
        )
        return result.modified_count == 1

    async def forget_expired(self, before: datetime) -> int:
        result = await self.store.col.delete_many({"expiresAt": {"$lt": before}})
        return result.deleted_count
