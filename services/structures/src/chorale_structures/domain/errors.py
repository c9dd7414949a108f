"""Domain errors of the structures service: one exception, stable codes, French messages.

Every business rule that refuses something raises :class:`DomainError` with a code from
:class:`ErrorCode`. The code is the contract (clients and tests match on it); the message is
for people and may be reworded; ``details`` carries the data needed to act (field names,
offending values, limits). ``HTTP_STATUS`` is the status the HTTP entrypoints answer with.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from chorale_runtime.errors import VALIDATION_STATUS, CataloguedError, ErrorSpec


class ErrorCode(StrEnum):
    # Identifiers
    SIRET_INVALID = "SIRET_INVALID"  # not 14 digits, or Luhn / La Poste digit sum fails
    IDENTIFIER_INVALID = "IDENTIFIER_INVALID"  # any other typeIdentifiant out of its form
    # Structures
    STRUCTURE_EXISTS = "STRUCTURE_EXISTS"  # 1 identifiant = 1 structure
    STRUCTURE_NOT_FOUND = "STRUCTURE_NOT_FOUND"
    STRUCTURE_INACTIVE = "STRUCTURE_INACTIVE"  # acting on (or deactivating) an inactive one
    STRUCTURE_ALREADY_ACTIVE = "STRUCTURE_ALREADY_ACTIVE"  # activating an active structure
    FIELD_READ_ONLY = "FIELD_READ_ONLY"  # identifiant, type, statut, reference-only fields
    PARAMETERS_INCOHERENT = "PARAMETERS_INCOHERENT"  # forbidden combination, see parameters.py
    PARAMETERS_NOT_APPLICABLE = "PARAMETERS_NOT_APPLICABLE"  # parameters on a PRIVEE structure
    # Services
    SERVICE_CODE_TAKEN = "SERVICE_CODE_TAKEN"  # codeService already used in this structure
    SERVICE_CODE_INVALID = "SERVICE_CODE_INVALID"  # codeService format, see services.py
    SERVICE_CODE_RESERVED = "SERVICE_CODE_RESERVED"  # FACTURES_PUBLIQUES is system-managed
    SERVICE_NOT_FOUND = "SERVICE_NOT_FOUND"
    SERVICE_INACTIVE = "SERVICE_INACTIVE"  # deactivating an inactive service
    SERVICE_ALREADY_ACTIVE = "SERVICE_ALREADY_ACTIVE"  # activating an active service
    DATES_INCOHERENT = "DATES_INCOHERENT"  # dateFinActivation before dateDebutActivation
    # Bank details
    IBAN_INVALID = "IBAN_INVALID"  # country, length, structure or checksum
    BIC_INVALID = "BIC_INVALID"  # not 8/11 characters, bad structure or unknown country
    RIB_INVALID = "RIB_INVALID"  # component lengths / characters
    RIB_KEY_INVALID = "RIB_KEY_INVALID"  # well-formed RIB whose key does not match
    BANK_DETAILS_INCOMPLETE = "BANK_DETAILS_INCOMPLETE"  # missing part (BIC, RIB document...)
    BANK_DETAILS_INACTIVE = "BANK_DETAILS_INACTIVE"  # modifying/deactivating inactive details
    # Attachments
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"  # more than 4 MiB
    ATTACHMENT_EMPTY = "ATTACHMENT_EMPTY"  # zero bytes
    # Requests
    REQUEST_ALREADY_DECIDED = "REQUEST_ALREADY_DECIDED"  # accept/refuse on a decided request
    # Generic
    VALIDATION_FAILED = "VALIDATION_FAILED"  # field-level problems, details["fields"]
    # Operator CSV import
    IMPORT_HEADER_INVALID = "IMPORT_HEADER_INVALID"  # file-level: unusable header row
    IMPORT_LINE_MALFORMED = "IMPORT_LINE_MALFORMED"  # line-level: CSV syntax, too many cells
    IMPORT_TYPE_UNKNOWN = "IMPORT_TYPE_UNKNOWN"  # line-level: type is not STRUCTURE/SERVICE


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.SIRET_INVALID: "Le numéro SIRET est invalide.",
    ErrorCode.IDENTIFIER_INVALID: "L'identifiant est invalide pour ce type d'identifiant.",
    ErrorCode.STRUCTURE_EXISTS: "Une structure existe déjà avec cet identifiant.",
    ErrorCode.STRUCTURE_NOT_FOUND: "Structure introuvable.",
    ErrorCode.STRUCTURE_INACTIVE: "La structure est inactive.",
    ErrorCode.STRUCTURE_ALREADY_ACTIVE: "La structure est déjà active.",
    ErrorCode.FIELD_READ_ONLY: "Ce champ ne peut pas être modifié.",
    ErrorCode.PARAMETERS_INCOHERENT: "Les paramètres de la structure sont incohérents.",
    ErrorCode.PARAMETERS_NOT_APPLICABLE: (
        "Les paramètres ne s'appliquent qu'aux structures publiques."
    ),
    ErrorCode.SERVICE_CODE_TAKEN: "Ce code service existe déjà dans la structure.",
    ErrorCode.SERVICE_CODE_INVALID: "Le code service est invalide.",
    ErrorCode.SERVICE_CODE_RESERVED: (
        "Le code service FACTURES_PUBLIQUES est réservé et géré par la plateforme."
    ),
    ErrorCode.SERVICE_NOT_FOUND: "Service introuvable.",
    ErrorCode.SERVICE_INACTIVE: "Le service est inactif.",
    ErrorCode.SERVICE_ALREADY_ACTIVE: "Le service est déjà actif.",
    ErrorCode.DATES_INCOHERENT: (
        "La date de fin d'activation ne peut pas précéder la date de début d'activation."
    ),
    ErrorCode.IBAN_INVALID: "L'IBAN est invalide.",
    ErrorCode.BIC_INVALID: "Le BIC est invalide.",
    ErrorCode.RIB_INVALID: "Le RIB est invalide.",
    ErrorCode.RIB_KEY_INVALID: "La clé RIB ne correspond pas au RIB saisi.",
    ErrorCode.BANK_DETAILS_INCOMPLETE: "Les coordonnées bancaires sont incomplètes.",
    ErrorCode.BANK_DETAILS_INACTIVE: "Les coordonnées bancaires sont inactives.",
    ErrorCode.ATTACHMENT_TOO_LARGE: "La pièce jointe dépasse la taille maximale de 4 Mo.",
    ErrorCode.ATTACHMENT_EMPTY: "La pièce jointe est vide.",
    ErrorCode.REQUEST_ALREADY_DECIDED: "Cette demande a déjà été traitée.",
    ErrorCode.VALIDATION_FAILED: "Certains champs sont invalides.",
    ErrorCode.IMPORT_HEADER_INVALID: "La ligne d'en-tête du fichier est invalide.",
    ErrorCode.IMPORT_LINE_MALFORMED: "La ligne est mal formée.",
    ErrorCode.IMPORT_TYPE_UNKNOWN: "Le type de ligne doit être STRUCTURE ou SERVICE.",
}

_STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.STRUCTURE_NOT_FOUND: 404,
    ErrorCode.SERVICE_NOT_FOUND: 404,
    ErrorCode.STRUCTURE_EXISTS: 409,
    ErrorCode.SERVICE_CODE_TAKEN: 409,
    ErrorCode.STRUCTURE_ALREADY_ACTIVE: 409,
    ErrorCode.STRUCTURE_INACTIVE: 409,
    ErrorCode.SERVICE_ALREADY_ACTIVE: 409,
    ErrorCode.SERVICE_INACTIVE: 409,
    ErrorCode.BANK_DETAILS_INACTIVE: 409,
    ErrorCode.REQUEST_ALREADY_DECIDED: 409,
    ErrorCode.ATTACHMENT_TOO_LARGE: 413,
}
# Everything else is a value of the request that is not valid: a validation error, 422 as the
# request schema's VALIDATION_FAILED (docs/CONVENTIONS.md).
HTTP_STATUS: dict[ErrorCode, int] = {
    code: _STATUS_BY_CODE.get(code, VALIDATION_STATUS) for code in ErrorCode
}


class DomainError(CataloguedError):
    """A refused business operation: stable `code`, French `message`, `details`."""

    code: ErrorCode  # the catalogue's codes

    catalogue = {code: ErrorSpec(HTTP_STATUS[code], MESSAGES[code]) for code in ErrorCode}

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(ErrorCode(code), message, details)


def field_error(field: str, reason: str) -> DomainError:
    """VALIDATION_FAILED for a single field."""
    return DomainError(ErrorCode.VALIDATION_FAILED, details={"fields": {field: reason}})


_FRENCH_BY_PYDANTIC_TYPE = {
    "missing": "valeur obligatoire",
    "extra_forbidden": "champ inconnu",
    "string_too_short": "valeur obligatoire",
    "string_too_long": "trop long (au plus {max_length} caractères)",
    "string_type": "texte attendu",
    "string_pattern_mismatch": "format invalide",
    "bool_type": "booléen attendu",
    "bool_parsing": "booléen attendu",
    "enum": "valeur non autorisée (attendu : {expected})",
    "literal_error": "valeur non autorisée (attendu : {expected})",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date invalide (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date invalide (AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date sans heure attendue (AAAA-MM-JJ)",
    "model_type": "objet attendu",
    "dict_type": "objet attendu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "frozen_instance": "champ non modifiable",
}


def from_validation_error(exc: ValidationError) -> DomainError:
    """Translate a pydantic ValidationError into VALIDATION_FAILED with per-field French reasons.

    A field-level ``ValueError`` raised by our own validators carries a French reason already.
    """
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"]) or "__root__"
        kind = err["type"]
        if kind == "value_error":
            reason = str(err.get("ctx", {}).get("error") or err["msg"])
        else:
            template = _FRENCH_BY_PYDANTIC_TYPE.get(kind, "valeur invalide")
            try:
                reason = template.format(**err.get("ctx", {}))
            except (KeyError, IndexError):
                reason = template.split(" (")[0]
        fields.setdefault(loc, reason)
    return DomainError(ErrorCode.VALIDATION_FAILED, details={"fields": fields})
