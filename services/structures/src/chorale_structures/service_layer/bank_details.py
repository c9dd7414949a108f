"""Use cases on bank details ("coordonnées bancaires"): one document each, own outbox.

The RIB document (``idPieceJointe``) must be an attachment of the same structure, still
present: bank details never point at a file that is not there.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from chorale_runtime.errors import ApiError
from chorale_structures.adapters.attachment_store import AttachmentStore
from chorale_structures.adapters.model_store import ModelStore, Versioned
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain import CoordonneeBancaire, DomainError, ErrorCode
from chorale_structures.domain.bank import (
    deactivate_bank_details,
    new_bank_details,
    update_bank_details,
)
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.structure_changes import load

COLLECTION = "bank_details"
MAX_ATTEMPTS = 8
BankStore = ModelStore[CoordonneeBancaire]


def bank_store(db: Any, notify: Any = None) -> BankStore:
    return ModelStore(db, COLLECTION, CoordonneeBancaire, "idCoordonneeBancaire", notify)


async def attachment_in_use(store: BankStore, identifiant: str, attachment_id: str) -> bool:
    """Active bank details point at this attachment as their RIB document."""
    found = await store.find(
        {"identifiant": identifiant, "idPieceJointe": attachment_id, "statut": "ACTIF"}, limit=1
    )
    return bool(found)


class BankDetails:
    def __init__(
        self, store: BankStore, structures: StructureStore, attachments: AttachmentStore
    ):
        self.store = store
        self._structures = structures
        self._attachments = attachments

    async def _check_document(self, identifiant: str, data: Mapping[str, Any]) -> None:
        attachment_id = data.get("idPieceJointe")
        if isinstance(attachment_id, str) and attachment_id.strip():
            if await self._attachments.get(identifiant, attachment_id.strip()) is None:
                raise DomainError(
                    ErrorCode.BANK_DETAILS_INCOMPLETE,
                    "Le document du RIB (idPieceJointe) n'est pas une pièce jointe de la "
                    "structure.",
                    {"champ": "idPieceJointe", "idPieceJointe": attachment_id},
                )

    async def add(
        self, identifiant: str, data: Mapping[str, Any], actor: Actor
    ) -> Versioned[CoordonneeBancaire]:
        await load(self._structures, identifiant)
        await self._check_document(identifiant, data)
        details, events = new_bank_details(
            identifiant, {**data, "idCoordonneeBancaire": str(uuid.uuid4())}
        )
        await self.store.add(identifiant, details, actor.envelopes(events), actor.now)
        return Versioned(details, 1, identifiant, actor.now, None)

    async def get(self, identifiant: str, bank_id: str) -> Versioned[CoordonneeBancaire]:
        found = await self.store.get(bank_id)
        if found is None or found.identifiant != identifiant:
            raise ApiError(
                "BANK_DETAILS_NOT_FOUND", "Coordonnées bancaires introuvables.", 404,
                {"idCoordonneeBancaire": bank_id},
            )
        return found

    async def list_for(self, identifiant: str) -> list[Versioned[CoordonneeBancaire]]:
        await load(self._structures, identifiant)
        return await self.store.find({"identifiant": identifiant})

    async def update(
        self, identifiant: str, bank_id: str, changes: Mapping[str, Any], actor: Actor
    ) -> Versioned[CoordonneeBancaire]:
        await self._check_document(identifiant, changes)
        return await self._change(
            identifiant, bank_id, lambda d: update_bank_details(identifiant, d, changes), actor
        )

    async def deactivate(
        self, identifiant: str, bank_id: str, actor: Actor
    ) -> Versioned[CoordonneeBancaire]:
        return await self._change(
            identifiant, bank_id, lambda d: deactivate_bank_details(identifiant, d), actor
        )

    async def _change(self, identifiant, bank_id, decide, actor: Actor):
        for _ in range(MAX_ATTEMPTS):
            current = await self.get(identifiant, bank_id)
            new, events = decide(current.model)
            if not events:
                return current
            if await self.store.save(current, new, actor.envelopes(events), actor.now):
                return current._replace(
                    model=new, version=current.version + 1, modified_at=actor.now
                )
        raise ApiError("BANK_DETAILS_CONFLICT", "Modification concurrente ; réessayez.", 409)
