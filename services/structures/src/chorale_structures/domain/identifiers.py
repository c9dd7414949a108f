"""Structure identifiers by ``typeIdentifiant``: validation and normalisation.

What is accepted (after removing white space; letters are upper-cased):

- ``SIRET``: 14 digits, separators ``.``/``-`` tolerated. Luhn checksum, except La Poste
  (SIREN 356000000) whose establishments are valid when the sum of the 14 digits is a multiple
  of 5; its head office 35600000000048 keeps the Luhn key. Delegated to ``stdnum.fr.siret``,
  which implements exactly this (the unit tests pin it). The SIREN part must pass Luhn too.
- ``UE_HORS_FRANCE``: an intra-community VAT number of a member state other than France,
  with its country prefix (``DE136695976``), checked by ``stdnum.eu.vat`` (per-country
  format and check digits). Greece is ``EL`` (``GR`` is accepted and rewritten to ``EL``).
  ``FR`` is refused (French entities use SIRET), and so are ``XI`` (Northern Ireland, not a
  member state: use HORS_UE) and the OSS ``EU``/``IM`` numbers (not an establishment).
- ``RIDET`` (New Caledonia, ISEE register): 7-digit company number followed by the 3-digit
  establishment rank, written ``1234567.001``, ``1234567 001`` or ``1234567001``; stored as
  10 digits. The RIDET has no published check key, so only the form is checked.
- ``TAHITI`` (French Polynesia, ISPF register): the 6-character "numéro TAHITI" (letters and
  digits) optionally followed by the 3-digit establishment number (``A12345``, ``A12345.001``,
  ``A12345001``); stored as 6 or 9 characters. No check key is published either.
- ``HORS_UE`` and ``AUTRE``: free identifiers from another register: 1 to 50 characters,
  letters, digits and ``. / _ -``, starting with a letter or digit.
"""

from __future__ import annotations

import functools
import re

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import siret as fr_siret

from chorale_contracts.events.common import TypeIdentifiant

from .errors import DomainError, ErrorCode

__all__ = ["LA_POSTE_SIREN", "TypeIdentifiant", "is_la_poste", "validate_identifier"]


LA_POSTE_SIREN = "356000000"

# EU member states other than France, as VAT prefixes (Greece uses EL).
EU_VAT_PREFIXES_OUTSIDE_FRANCE = frozenset(
    "AT BE BG CY CZ DE DK EE EL ES FI HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

_WHITESPACE = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s.\-]+")
_RIDET = re.compile(r"^(\d{7})[.\-/]?(\d{3})$")
_TAHITI = re.compile(r"^([A-Z0-9]{6})(?:[.\-/]?(\d{3}))?$")
_FREE = re.compile(r"^[A-Z0-9][A-Z0-9./_\-]{0,49}$")


def _invalid(type_: TypeIdentifiant, raw: str, reason: str) -> DomainError:
    code = (
        ErrorCode.SIRET_INVALID if type_ is TypeIdentifiant.SIRET else ErrorCode.IDENTIFIER_INVALID
    )
    return DomainError(
        code,
        f"Identifiant {type_.value} invalide : {reason}",
        {"typeIdentifiant": type_.value, "identifiant": raw, "raison": reason},
    )


def validate_siret(raw: str) -> str:
    number = _SEPARATORS.sub("", raw or "")
    if not number:
        raise _invalid(TypeIdentifiant.SIRET, raw, "valeur obligatoire")
    if not number.isdigit() or len(number) != 14:
        raise _invalid(TypeIdentifiant.SIRET, raw, "le SIRET comporte 14 chiffres")
    try:
        return fr_siret.validate(number)
    except InvalidChecksum:
        raise _invalid(TypeIdentifiant.SIRET, raw, "la clé de contrôle est incorrecte") from None
    except ValidationError:
        raise _invalid(TypeIdentifiant.SIRET, raw, "numéro non conforme") from None


def validate_eu_vat_outside_france(raw: str) -> str:
    compact = _SEPARATORS.sub("", raw or "").upper()
    if compact.startswith("GR"):
        compact = "EL" + compact[2:]
    prefix = compact[:2]
    if prefix not in EU_VAT_PREFIXES_OUTSIDE_FRANCE:
        reason = (
            "un numéro français s'identifie par son SIRET"
            if prefix == "FR"
            else "préfixe pays d'un État membre de l'UE autre que la France attendu"
        )
        raise _invalid(TypeIdentifiant.UE_HORS_FRANCE, raw, reason)
    try:
        return eu_vat.validate(compact)
    except ValidationError:
        raise _invalid(
            TypeIdentifiant.UE_HORS_FRANCE, raw, "numéro de TVA intracommunautaire invalide"
        ) from None


def _validate_ridet(raw: str) -> str:
    match = _RIDET.match(_WHITESPACE.sub("", raw or ""))
    if not match:
        raise _invalid(
            TypeIdentifiant.RIDET, raw, "7 chiffres suivis des 3 chiffres de l'établissement"
        )
    return match.group(1) + match.group(2)


def _validate_tahiti(raw: str) -> str:
    match = _TAHITI.match(_WHITESPACE.sub("", raw or "").upper())
    if not match:
        raise _invalid(
            TypeIdentifiant.TAHITI,
            raw,
            "6 caractères (lettres ou chiffres), éventuellement suivis de 3 chiffres",
        )
    return match.group(1) + (match.group(2) or "")


def _validate_free(type_: TypeIdentifiant, raw: str) -> str:
    value = _WHITESPACE.sub("", raw or "").upper()
    if not _FREE.match(value):
        raise _invalid(type_, raw, "1 à 50 caractères : lettres, chiffres et . / _ - (sans accent)")
    return value


def validate_identifier(type_identifiant: TypeIdentifiant | str, raw: str) -> str:
    """Return the normalised identifier or raise SIRET_INVALID / IDENTIFIER_INVALID."""
    try:
        type_ = TypeIdentifiant(type_identifiant)
    except (ValueError, TypeError):
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            details={
                "fields": {
                    "typeIdentifiant": "valeur non autorisée (attendu : "
                    + ", ".join(t.value for t in TypeIdentifiant)
                    + ")"
                }
            },
        ) from None
    if not isinstance(raw, str):
        raise _invalid(type_, str(raw), "texte attendu")
    return _validate(type_, raw)


# Cached: one identifier is validated by the import parser, then by the model, then on every
# reload. The function is pure and only successes are cached.
@functools.lru_cache(maxsize=8192)
def _validate(type_: TypeIdentifiant, raw: str) -> str:
    match type_:
        case TypeIdentifiant.SIRET:
            return validate_siret(raw)
        case TypeIdentifiant.UE_HORS_FRANCE:
            return validate_eu_vat_outside_france(raw)
        case TypeIdentifiant.RIDET:
            return _validate_ridet(raw)
        case TypeIdentifiant.TAHITI:
            return _validate_tahiti(raw)
        case _:
            return _validate_free(type_, raw)


def is_la_poste(siret: str) -> bool:
    return siret.startswith(LA_POSTE_SIREN)
