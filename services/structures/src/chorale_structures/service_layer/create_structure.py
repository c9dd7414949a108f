"""Use case: a supplier creates its (private) structure, or an operator a public one."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from stdnum.fr import siret

from chorale_contracts import new_envelope
from chorale_contracts.events.common import TypeIdentifiant, TypeStructure
from chorale_contracts.events.structures import StructureCreated
from chorale_runtime.errors import ApiError
from chorale_structures.adapters.structure_repository import (
    StructureAlreadyExists,
    StructureRepository,
)


class CreateStructure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifiant: str = Field(min_length=1, max_length=80)
    typeIdentifiant: TypeIdentifiant = TypeIdentifiant.SIRET
    raisonSociale: str = Field(min_length=1, max_length=200)
    typeStructure: TypeStructure = TypeStructure.PRIVEE


async def create_structure(
    cmd: CreateStructure,
    repo: StructureRepository,
    *,
    created_by: str | None,
    correlation_id: str,
    now: datetime | None = None,
) -> dict:
    identifiant = cmd.identifiant.replace(" ", "")
    if cmd.typeIdentifiant is TypeIdentifiant.SIRET and not siret.is_valid(identifiant):
        raise ApiError("SIRET_INVALID", f"Le SIRET {identifiant} est invalide.", 422)
    now = now or datetime.now(UTC)
    doc = {
        "_id": identifiant,
        "identifiant": identifiant,
        "typeIdentifiant": cmd.typeIdentifiant.value,
        "typeStructure": cmd.typeStructure.value,
        "raisonSociale": cmd.raisonSociale,
        "statut": "ACTIVE",
        "version": 1,
        "createdAt": now,
    }
    event = new_envelope(
        StructureCreated(
            identifiant=identifiant,
            typeIdentifiant=cmd.typeIdentifiant,
            typeStructure=cmd.typeStructure,
            raisonSociale=cmd.raisonSociale,
            createdBy=created_by,
        ),
        key=identifiant,
        producer="structures",
        correlation_id=correlation_id,
        occurred_at=now,
    )
    try:
        await repo.add(doc, [event])
    except StructureAlreadyExists:
        raise ApiError(
            "STRUCTURE_EXISTS", f"Une structure existe déjà pour l'identifiant {identifiant}.", 409
        ) from None
    return doc
