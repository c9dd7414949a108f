"""Attachments: metadata (with the outbox) in ``attachments``, bytes in ``attachment_contents``.

The bytes live in the database, not in a folder: the service keeps no state outside its
database (one backup, replicas need no shared disk) and 4 MiB fits a document comfortably.
They sit in their own collection so that the relay's outbox updates of the metadata never
rewrite megabytes. Order of writes, so that a crash never leaves a visible half:
- add: bytes first, then the metadata with its event (a crash between leaves unreachable
  bytes, never metadata without bytes);
- delete: the metadata is marked deleted with its event (a tombstone: the event needs a
  document to live in), then the bytes are removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import Binary

from chorale_contracts import Envelope
from chorale_runtime.documents import VersionedDocuments
from chorale_structures.domain import Attachment

COLLECTION = "attachments"
CONTENTS = "attachment_contents"


class AttachmentStore:
    def __init__(self, db: Any, notify: Any = None):
        self._docs = VersionedDocuments(db[COLLECTION], notify)
        self._contents = db[CONTENTS]

    async def add(
        self, identifiant: str, attachment_id: str, attachment: Attachment, data: bytes,
        envelopes: list[Envelope], now: datetime,
    ) -> dict[str, Any]:
        await self._contents.insert_one({"_id": attachment_id, "contenu": Binary(data)})
        doc = {
            "_id": attachment_id,
            "idPieceJointe": attachment_id,
            "identifiant": identifiant,
            **attachment.model_dump(),
            "dateAjout": now,
            "supprime": False,
        }
        await self._docs.insert(doc, envelopes)
        return doc

    async def get(self, identifiant: str, attachment_id: str) -> dict[str, Any] | None:
        doc = await self._docs.get(attachment_id)
        if doc is None or doc["identifiant"] != identifiant or doc["supprime"]:
            return None
        return doc

    async def list_for(self, identifiant: str) -> list[dict[str, Any]]:
        return await self._docs.find(
            {"identifiant": identifiant, "supprime": False}, (("dateAjout", 1),)
        )

    @staticmethod
    def model_of(doc: dict[str, Any]) -> Attachment:
        return Attachment.model_validate({k: doc[k] for k in Attachment.model_fields})

    async def content(self, attachment_id: str) -> bytes | None:
        doc = await self._contents.find_one({"_id": attachment_id})
        return bytes(doc["contenu"]) if doc else None

    async def mark_deleted(
        self, doc: dict[str, Any], envelopes: list[Envelope], now: datetime
    ) -> bool:
        done = await self._docs.compare_and_set(
            doc["_id"], doc["version"], {"supprime": True, "dateSuppression": now}, envelopes
        )
        if done:
            await self._contents.delete_one({"_id": doc["_id"]})
        return done
