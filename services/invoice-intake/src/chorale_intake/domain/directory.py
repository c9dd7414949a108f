"""The intake's view of a recipient structure, as published on `chorale.directory.v1`.

Attribute aliases are the Chorus Pro JSON names, so a directory snapshot (the
`DirectorySnapshot` payload, or a document of the intake's read model) validates straight in:
`RecipientEntry.model_validate(snapshot_dict)`. Unknown fields are ignored. The structure
parameters may be nested under `parametres` (as in the snapshot) or given at the top level.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from chorale_contracts.events.common import (
    StatutService,
    StatutStructure,
    TypeIdentifiant,
    TypeStructure,
)

RESERVED_PUBLIC_SERVICE = "FACTURES_PUBLIQUES"

_MODEL_CONFIG = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class RecipientService(BaseModel):
    model_config = _MODEL_CONFIG

    code: str = Field(alias="codeService")
    label: str = Field(default="", alias="libelle")
    statut: StatutService = Field(alias="statut")
    activation_start: date = Field(alias="dateDebutActivation")
    activation_end: date | None = Field(default=None, alias="dateFinActivation")
    engagement_required: bool = Field(default=False, alias="numeroEJDoitEtreRenseigne")

    def active_on(self, day: date) -> bool:
        return (
            self.statut is StatutService.ACTIF
            and self.activation_start <= day
            and (self.activation_end is None or day <= self.activation_end)
        )


class RecipientParameters(BaseModel):
    model_config = _MODEL_CONFIG

    service_code_required: bool = Field(default=False, alias="codeServiceDoitEtreRenseigne")
    engagement_required: bool = Field(default=False, alias="numeroEJDoitEtreRenseigne")
    service_or_engagement_required: bool = Field(
        default=False, alias="gestionNumeroEJOuCodeService"
    )


_PARAMETER_NAMES = (
    "codeServiceDoitEtreRenseigne",
    "numeroEJDoitEtreRenseigne",
    "gestionNumeroEJOuCodeService",
)


class RecipientEntry(BaseModel):
    model_config = _MODEL_CONFIG

    identifier: str = Field(alias="identifiant")
    name: str = Field(default="", alias="raisonSociale")
    identifier_type: TypeIdentifiant = Field(default=TypeIdentifiant.SIRET, alias="typeIdentifiant")
    structure_type: TypeStructure = Field(alias="typeStructure")
    statut: StatutStructure = Field(alias="statut")
    parameters: RecipientParameters = Field(default_factory=RecipientParameters, alias="parametres")
    services: tuple[RecipientService, ...] = Field(default=(), alias="services")

    _by_code: dict[str, RecipientService] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lift_flat_parameters(cls, data: Any) -> Any:
        """Accept the three parameters at the top level too (flat Chorus Pro payloads)."""
        if isinstance(data, dict) and "parametres" not in data and "parameters" not in data:
            flat = {k: data[k] for k in _PARAMETER_NAMES if k in data}
            if flat:
                data = {**data, "parametres": flat}
        return data

    def model_post_init(self, _context: Any) -> None:
        self._by_code = {service.code.strip(): service for service in self.services}

    @property
    def is_public(self) -> bool:
        return self.structure_type is TypeStructure.PUBLIQUE

    @property
    def is_active(self) -> bool:
        return self.statut is StatutStructure.ACTIVE

    def service(self, code: str) -> RecipientService | None:
        """The service with this code (exact match, surrounding blanks ignored)."""
        return self._by_code.get(code.strip())
