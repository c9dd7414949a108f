"""Habilitations' read model of identity: each user's rattachements and deactivation, in one
document per user (`_id` = user id), so the attachment check is one primary-key read."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from chorale_habilitations.domain.attachments import (
    Attachment,
    AttachmentStatus,
    Membership,
)
from chorale_runtime.mongo import is_duplicate_key

COLLECTION = "memberships"
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _field(rattachement_id: str) -> str:
    """A field name for the id (no dots or dollars in a field path)."""
    if _SAFE.fullmatch(rattachement_id):
        return rattachement_id
    return "h" + hashlib.sha256(rattachement_id.encode()).hexdigest()[:32]


class MembershipStore:
    def __init__(self, db: Any):
        self._col = db[COLLECTION]

    async def get(self, user_id: str) -> Membership:
        doc = await self._col.find_one({"_id": user_id})
        if doc is None:
            return Membership(user_id)
        attachments = tuple(
            Attachment(a["rattachementId"], a["structure"], a.get("codeService"),
                       AttachmentStatus(a["status"]))
            for a in (doc.get("rattachements") or {}).values()
        )
        return Membership(user_id, attachments, bool(doc.get("deactivated")))

    async def attached(
        self, user_id: str, rattachement_id: str, structure: str, code_service: str | None
    ) -> None:
        """VALIDEE — unless this rattachement already ended (a late replay never revives it)."""
        path = f"rattachements.{_field(rattachement_id)}"
        try:
            await self._col.update_one(
                {"_id": user_id, f"{path}.status": {"$ne": AttachmentStatus.DESACTIVEE.value}},
                {"$set": {path: _entry(rattachement_id, structure, code_service,
                                       AttachmentStatus.VALIDEE)}},
                upsert=True,
            )
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def detached(
        self, user_id: str, rattachement_id: str, structure: str, code_service: str | None
    ) -> None:
        path = f"rattachements.{_field(rattachement_id)}"
        await self._col.update_one(
            {"_id": user_id},
            {"$set": {path: _entry(rattachement_id, structure, code_service,
                                   AttachmentStatus.DESACTIVEE)}},
            upsert=True,
        )

    async def deactivated(self, user_id: str) -> None:
        await self._col.update_one({"_id": user_id}, {"$set": {"deactivated": True}},
                                   upsert=True)


def _entry(rattachement_id: str, structure: str, code_service: str | None,
           status: AttachmentStatus) -> dict[str, Any]:
    return {"rattachementId": rattachement_id, "structure": structure,
            "codeService": code_service, "status": status.value}
