"""Use cases on attachments ("pièces jointes"): streamed upload capped at 4 MiB, list,
download, delete (refused while active bank details use the file as their RIB document)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from chorale_runtime.errors import ApiError
from chorale_structures.adapters.attachment_store import AttachmentStore
from chorale_structures.adapters.multipart_stream import FilePartReader
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain import (
    MAX_ATTACHMENT_BYTES,
    DomainError,
    ErrorCode,
    UploadInspector,
)
from chorale_structures.domain.attachments import attachment_added, attachment_deleted
from chorale_structures.domain.errors import field_error
from chorale_structures.service_layer.bank_details import BankStore, attachment_in_use
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.structure_changes import load

# What a multipart envelope around one file may add (boundaries, part headers, text fields).
MULTIPART_ALLOWANCE = 64 * 1024


def _too_large() -> DomainError:
    return DomainError(
        ErrorCode.ATTACHMENT_TOO_LARGE, details={"tailleMaximale": MAX_ATTACHMENT_BYTES}
    )


def _not_found(attachment_id: str) -> ApiError:
    return ApiError(
        "ATTACHMENT_NOT_FOUND", "Pièce jointe introuvable.", 404, {"idPieceJointe": attachment_id}
    )


async def read_upload(
    content_type: str | None, content_length: str | None, body: AsyncIterator[bytes]
) -> UploadInspector:
    """Read the body only as far as needed: refused at once when the declared length is over
    the limit, and as soon as the file passes it otherwise (a chunked or lying sender)."""
    if content_length and content_length.isdigit():
        if int(content_length) > MAX_ATTACHMENT_BYTES + MULTIPART_ALLOWANCE:
            raise _too_large()
    reader = FilePartReader(content_type)
    inspector: UploadInspector | None = None
    async for chunk in body:
        for piece in reader.feed(chunk):
            inspector = inspector or UploadInspector(reader.filename)
            inspector.feed(piece)  # raises ATTACHMENT_TOO_LARGE: we stop reading here
        if reader.complete:
            break
    if not reader.complete:
        raise field_error("fichier", "aucun fichier dans l'envoi")
    return inspector or UploadInspector(reader.filename)


class Attachments:
    def __init__(self, store: AttachmentStore, structures: StructureStore, bank: BankStore):
        self.store = store
        self._structures = structures
        self._bank = bank

    async def upload(
        self,
        identifiant: str,
        content_type: str | None,
        content_length: str | None,
        body: AsyncIterator[bytes],
        actor: Actor,
    ) -> dict[str, Any]:
        await load(self._structures, identifiant)
        inspector = await read_upload(content_type, content_length, body)
        # Hashing and sniffing up to 4 MiB is CPU work: off the event loop.
        attachment, data = await asyncio.to_thread(inspector.finish)
        attachment_id = str(uuid.uuid4())
        event = attachment_added(identifiant, attachment_id, attachment)
        return await self.store.add(
            identifiant, attachment_id, attachment, data, actor.envelopes([event]), actor.now
        )

    async def list_for(self, identifiant: str) -> list[dict[str, Any]]:
        await load(self._structures, identifiant)
        return await self.store.list_for(identifiant)

    async def get(self, identifiant: str, attachment_id: str) -> dict[str, Any]:
        doc = await self.store.get(identifiant, attachment_id)
        if doc is None:
            raise _not_found(attachment_id)
        return doc

    async def download(self, identifiant: str, attachment_id: str) -> tuple[dict, bytes]:
        doc = await self.get(identifiant, attachment_id)
        data = await self.store.content(attachment_id)
        if data is None:
            raise _not_found(attachment_id)
        return doc, data

    async def delete(self, identifiant: str, attachment_id: str, actor: Actor) -> None:
        doc = await self.get(identifiant, attachment_id)
        if await attachment_in_use(self._bank, identifiant, attachment_id):
            raise ApiError(
                "ATTACHMENT_IN_USE",
                "Cette pièce jointe est le document RIB de coordonnées bancaires actives ; "
                "désactivez-les d'abord.",
                409,
                {"idPieceJointe": attachment_id},
            )
        attachment = self.store.model_of(doc)
        event = attachment_deleted(identifiant, attachment_id, attachment)
        if not await self.store.mark_deleted(doc, actor.envelopes([event]), actor.now):
            raise _not_found(attachment_id)  # deleted meanwhile
