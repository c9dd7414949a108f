"""The Structure model and its field rules (see structures.py for the rules as a whole)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from stdnum.eu import vat as eu_vat

from chorale_contracts.events.common import StatutStructure, TypeStructure

from .errors import DomainError, ErrorCode
from .fields import Text
from .identifiers import TypeIdentifiant, validate_identifier
from .parameters import ParametresStructure

GENERAL_FIELDS = (
    "raisonSociale",
    "libelleStructure",
    "adresseElectronique",
    "telephone",
    "numeroTva",
    "numeroRcs",
    "nonDiffusibleInsee",
)
ADDRESS_FIELDS = (
    "adresse",
    "complementAdresse1",
    "complementAdresse2",
    "codePostal",
    "ville",
    "pays",
)
READ_ONLY_FIELDS = ("identifiant", "typeIdentifiant", "typeStructure", "statut")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{4,30}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Structure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    identifiant: str
    typeIdentifiant: TypeIdentifiant = TypeIdentifiant.SIRET
    typeStructure: TypeStructure
    statut: StatutStructure = StatutStructure.ACTIVE
    raisonSociale: Annotated[str, Text(200)]
    libelleStructure: Annotated[str | None, Text(200)] = None
    adresseElectronique: Annotated[str | None, Text(254)] = None
    telephone: Annotated[str | None, Text(30)] = None
    numeroTva: Annotated[str | None, Text(20)] = None
    numeroRcs: Annotated[str | None, Text(50)] = None
    nonDiffusibleInsee: bool = False
    adresse: Annotated[str | None, Text(250)] = None
    complementAdresse1: Annotated[str | None, Text(250)] = None
    complementAdresse2: Annotated[str | None, Text(250)] = None
    codePostal: Annotated[str | None, Text(10)] = None
    ville: Annotated[str | None, Text(100)] = None
    pays: str = "FR"
    parametres: ParametresStructure | None = None

    @model_validator(mode="before")
    @classmethod
    def _identity_and_parameters(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        type_id = data.get("typeIdentifiant") or TypeIdentifiant.SIRET
        data["identifiant"] = validate_identifier(type_id, data.get("identifiant") or "")
        if data.get("typeStructure") == TypeStructure.PRIVEE and data.get("parametres"):
            raise DomainError(
                ErrorCode.PARAMETERS_NOT_APPLICABLE, details={"identifiant": data["identifiant"]}
            )
        if data.get("typeStructure") == TypeStructure.PUBLIQUE and data.get("parametres") is None:
            data["parametres"] = ParametresStructure()
        return data

    @field_validator("adresseElectronique")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("adresse électronique invalide")
        return value

    @field_validator("telephone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError("numéro de téléphone invalide")
        return value

    @field_validator("numeroTva")
    @classmethod
    def _vat(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return eu_vat.validate(value)
        except Exception:
            raise ValueError("numéro de TVA intracommunautaire invalide") from None

    @field_validator("pays", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        value = value.strip().upper() if isinstance(value, str) else value
        if not isinstance(value, str) or not _COUNTRY.match(value):
            raise ValueError("code pays ISO à 2 lettres attendu (ex. FR)")
        return value

    @model_validator(mode="after")
    def _postcode(self) -> Structure:
        if (
            self.pays == "FR"
            and self.codePostal is not None
            and not re.fullmatch(r"\d{5}", self.codePostal)
        ):
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                details={"fields": {"codePostal": "code postal français à 5 chiffres attendu"}},
            )
        return self

    @property
    def is_public(self) -> bool:
        return self.typeStructure is TypeStructure.PUBLIQUE

    @property
    def is_active(self) -> bool:
        return self.statut is StatutStructure.ACTIVE
