"""Bank details ("coordonnées bancaires"): IBAN + BIC, or French RIB; optional factor.

- IBAN: checked by schwifty: known country, per-country length and structure, ISO 7064
  check digits, and the national check digits where schwifty knows them (the RIB key inside
  a French IBAN, Belgian, Spanish, Italian keys...). Spaces and case are normalised away.
- BIC: 8 or 11 characters, ISO 9362 structure (4 alphanumeric institution characters, a
  known ISO country code, 2-character location, optional 3-character branch). Its existence
  is not required (schwifty's bank registry is incomplete). Required with an IBAN, optional
  with a RIB (the portal's RIB form has no BIC).
- The BIC's country is deliberately NOT required to match the IBAN's: real accounts differ
  (a neobank's French FR76 IBAN served by its German BIC; overseas territories' banks), and
  refusing them would refuse valid details. Intake never routes on it.
- RIB (France): code banque 5 digits, code guichet 5 digits, numéro de compte 11 letters or
  digits, clé 2 digits. Key = 97 - ((89 * banque + 15 * guichet + 3 * compte) mod 97), the
  account's letters converted first (A,J=1 B,K,S=2 C,L,T=3 D,M,U=4 E,N,V=5 F,O,W=6 G,P,X=7
  H,Q,Y=8 I,R,Z=9). The FR IBAN is derived from a valid RIB and stored with it.
- A RIB document (the attachment id ``idPieceJointe``) is required, as on the portal.
- Factor ("affactureur"): raisonSociale, pays, identifiant, typeIdentifiant (identifier
  checked like a structure's).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from schwifty import BIC, IBAN
from schwifty import exceptions as sw

from chorale_contracts.events.structures import (
    BankDetailsAdded,
    BankDetailsDeactivated,
    BankDetailsUpdated,
)

from .errors import DomainError, ErrorCode, field_error, from_validation_error
from .events import Outcome
from .fields import Text
from .identifiers import TypeIdentifiant, validate_identifier

# schwifty warns when it has no national-checksum algorithm for a country; that is expected.
warnings.filterwarnings("ignore", category=sw.NationalChecksumNotVerified)

_RIB_LETTERS = {
    letter: digit
    for digit, letters in zip(
        "123456789", ("AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"), strict=True
    )
    for letter in letters
}
_IBAN_REASONS: dict[type[Exception], str] = {
    sw.InvalidCountryCode: "code pays inconnu",
    sw.InvalidLength: "longueur incorrecte pour ce pays",
    sw.InvalidChecksumDigits: "clé de contrôle IBAN incorrecte",
    sw.InvalidBBANChecksum: "clé nationale du compte incorrecte (ex. clé RIB)",
    sw.InvalidStructure: "format incorrect pour ce pays",
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_RIB_FIELDS = ("codeBanque", "codeGuichet", "numeroCompte", "cleRib")


class TypeCoordonnee(StrEnum):
    IBAN = "IBAN"
    RIB = "RIB"


class StatutCoordonnee(StrEnum):
    ACTIF = "ACTIF"
    INACTIF = "INACTIF"


def validate_iban(raw: Any) -> str:
    """Return the compact IBAN or raise IBAN_INVALID (details['raison'])."""
    try:
        return IBAN(raw if isinstance(raw, str) else "", validate_bban=True).compact
    except sw.SchwiftyException as exc:
        reason = next((r for t, r in _IBAN_REASONS.items() if isinstance(exc, t)), "IBAN invalide")
        raise DomainError(
            ErrorCode.IBAN_INVALID,
            f"L'IBAN est invalide : {reason}.",
            {"iban": raw, "raison": reason},
        ) from None


def validate_bic(raw: Any) -> str:
    """Return the compact upper-case BIC or raise BIC_INVALID."""
    try:
        return BIC(raw if isinstance(raw, str) else "").compact
    except sw.SchwiftyException:
        raise DomainError(
            ErrorCode.BIC_INVALID,
            "Le BIC doit comporter 8 ou 11 caractères (banque, pays, localisation, agence).",
            {"bic": raw},
        ) from None


def _rib_digits(value: str) -> int:
    return int("".join(_RIB_LETTERS.get(c, c) for c in value))


def rib_key(code_banque: str, code_guichet: str, numero_compte: str) -> str:
    total = 89 * _rib_digits(code_banque) + 15 * _rib_digits(code_guichet)
    total += 3 * _rib_digits(numero_compte)
    return f"{97 - total % 97:02d}"


def validate_rib(banque: Any, guichet: Any, compte: Any, cle: Any) -> tuple[str, str, str, str]:
    """Normalised (banque, guichet, compte, clé) or RIB_INVALID / RIB_KEY_INVALID."""
    parts = [
        re.sub(r"\s+", "", p).upper() if isinstance(p, str) else ""
        for p in (banque, guichet, compte, cle)
    ]
    banque, guichet, compte, cle = parts
    problems = {}
    if not re.fullmatch(r"\d{5}", banque):
        problems["codeBanque"] = "5 chiffres"
    if not re.fullmatch(r"\d{5}", guichet):
        problems["codeGuichet"] = "5 chiffres"
    if not re.fullmatch(r"[A-Z0-9]{11}", compte):
        problems["numeroCompte"] = "11 lettres ou chiffres"
    if not re.fullmatch(r"\d{2}", cle):
        problems["cleRib"] = "2 chiffres"
    if problems:
        raise DomainError(ErrorCode.RIB_INVALID, details={"fields": problems})
    expected = rib_key(banque, guichet, compte)
    if cle != expected:
        raise DomainError(ErrorCode.RIB_KEY_INVALID, details={"cleRib": cle})
    return banque, guichet, compte, cle


def iban_from_rib(banque: str, guichet: str, compte: str, cle: str) -> str:
    bban = "".join(validate_rib(banque, guichet, compte, cle))
    numeric = "".join(str(int(c, 36)) for c in bban + "FR00")
    return f"FR{98 - int(numeric) % 97:02d}{bban}"


class Affactureur(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    raisonSociale: Annotated[str, Text(200)]
    pays: str
    identifiant: str
    typeIdentifiant: TypeIdentifiant

    @model_validator(mode="before")
    @classmethod
    def _identifier(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("typeIdentifiant"):
            data = {
                **data,
                "identifiant": validate_identifier(
                    data["typeIdentifiant"], data.get("identifiant") or ""
                ),
            }
        return data

    @field_validator("pays", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        value = value.strip().upper() if isinstance(value, str) else value
        if not isinstance(value, str) or not _COUNTRY.match(value):
            raise ValueError("code pays ISO à 2 lettres attendu (ex. FR)")
        return value


class CoordonneeBancaire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    idCoordonneeBancaire: Annotated[str, Text(64)]
    nom: Annotated[str, Text(100)]
    type: TypeCoordonnee
    iban: str
    bic: str | None = None
    pays: str
    codeBanque: str | None = None
    codeGuichet: str | None = None
    numeroCompte: str | None = None
    cleRib: str | None = None
    affactureur: Affactureur | None = None
    idPieceJointe: Annotated[str | None, Text(64)] = None
    statut: StatutCoordonnee = StatutCoordonnee.ACTIF

    @model_validator(mode="before")
    @classmethod
    def _account(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if k != "pays"}
        if not data.get("idPieceJointe"):
            raise DomainError(
                ErrorCode.BANK_DETAILS_INCOMPLETE,
                "Le document du RIB doit être joint aux coordonnées bancaires.",
                {"champ": "idPieceJointe"},
            )
        if data.get("bic"):
            data["bic"] = validate_bic(data["bic"])
        if data.get("type") == TypeCoordonnee.RIB:
            rib = validate_rib(*(data.get(f) for f in _RIB_FIELDS))
            data.update(zip(_RIB_FIELDS, rib, strict=True))
            data["iban"] = iban_from_rib(*rib)
        elif data.get("type") == TypeCoordonnee.IBAN:
            if any(data.get(f) for f in _RIB_FIELDS):
                raise field_error("type", "les champs du RIB ne s'utilisent qu'avec le type RIB")
            data["iban"] = validate_iban(data.get("iban"))
            if not data.get("bic"):
                raise DomainError(
                    ErrorCode.BANK_DETAILS_INCOMPLETE,
                    "Le BIC est obligatoire avec un IBAN.",
                    {"champ": "bic"},
                )
        if isinstance(data.get("iban"), str):
            data["pays"] = data["iban"][:2]
        return data


def _build(data: Mapping[str, Any]) -> CoordonneeBancaire:
    try:
        return CoordonneeBancaire.model_validate(dict(data))
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def mask_iban(iban: str) -> str:
    """Country, check digits and the last 4 characters; the rest hidden (for events, logs)."""
    return iban[:4] + "*" * max(len(iban) - 8, 0) + iban[-4:]


_BankEvent = type[BankDetailsAdded | BankDetailsUpdated | BankDetailsDeactivated]


def _event(kind: _BankEvent, structure_id: str, details: CoordonneeBancaire) -> Any:
    return kind(
        identifiant=structure_id,
        bankDetailsId=details.idCoordonneeBancaire,
        ibanMasked=mask_iban(details.iban),
        bic=details.bic,
        statut=details.statut.value,
    )


def new_bank_details(structure_id: str, data: Mapping[str, Any]) -> Outcome[CoordonneeBancaire]:
    details = _build({**data, "statut": StatutCoordonnee.ACTIF})
    return Outcome(details, [_event(BankDetailsAdded, structure_id, details)])


def update_bank_details(
    structure_id: str, current: CoordonneeBancaire, changes: Mapping[str, Any]
) -> Outcome[CoordonneeBancaire]:
    """Replace fields (switching IBAN <-> RIB clears the other type's fields; a RIB's
    IBAN is always re-derived from it)."""
    if current.statut is StatutCoordonnee.INACTIF:
        raise DomainError(ErrorCode.BANK_DETAILS_INACTIVE)
    for name in ("idCoordonneeBancaire", "statut"):
        if name in changes and changes[name] != getattr(current, name):
            raise DomainError(ErrorCode.FIELD_READ_ONLY, details={"champ": name})
    base = current.model_dump(exclude={"pays"})
    if changes.get("type", current.type) != current.type:
        base = {k: v for k, v in base.items() if k not in (*_RIB_FIELDS, "iban")}
    updated = _build({**base, **changes})
    if updated == current:
        return Outcome(current, [])
    return Outcome(updated, [_event(BankDetailsUpdated, structure_id, updated)])


def deactivate_bank_details(
    structure_id: str, current: CoordonneeBancaire
) -> Outcome[CoordonneeBancaire]:
    if current.statut is StatutCoordonnee.INACTIF:
        raise DomainError(ErrorCode.BANK_DETAILS_INACTIVE)
    updated = current.model_copy(update={"statut": StatutCoordonnee.INACTIF})
    return Outcome(updated, [_event(BankDetailsDeactivated, structure_id, updated)])
