"""Rule codes of DESIGN.md §6 "Invoice intake", their level and their French message.

The codes are a public contract (acknowledgements, events, operators' filters): never rename one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class ErrorLevel(StrEnum):
    """Values match `chorale_contracts.events.flows.FlowError.level`."""

    FLOW = "FLUX"  # the whole file is rejected
    INVOICE = "FACTURE"  # the invoice is rejected


class RuleCode(StrEnum):
    EMPTY_FILE = "EMPTY_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    XML_MALFORMED = "XML_MALFORMED"
    XML_FORBIDDEN_DTD = "XML_FORBIDDEN_DTD"
    SYNTAX_UNKNOWN = "SYNTAX_UNKNOWN"
    SYNTAX_MISMATCH = "SYNTAX_MISMATCH"
    XSD_INVALID = "XSD_INVALID"
    PDF_INVALID = "PDF_INVALID"
    PDF_TRUNCATED = "PDF_TRUNCATED"
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_TOO_COMPLEX = "PDF_TOO_COMPLEX"
    FACTURX_NO_INVOICE = "FACTURX_NO_INVOICE"
    FACTURX_AMBIGUOUS = "FACTURX_AMBIGUOUS"
    FACTURX_PROFILE_MISMATCH = "FACTURX_PROFILE_MISMATCH"
    FACTURX_PROFILE_NOT_INVOICE = "FACTURX_PROFILE_NOT_INVOICE"
    SUPPLIER_NOT_PARTNER = "SUPPLIER_NOT_PARTNER"
    RECIPIENT_MISSING = "RECIPIENT_MISSING"
    RECIPIENT_UNKNOWN = "RECIPIENT_UNKNOWN"
    RECIPIENT_INACTIVE = "RECIPIENT_INACTIVE"
    RECIPIENT_NOT_PUBLIC = "RECIPIENT_NOT_PUBLIC"
    SERVICE_CODE_REQUIRED = "SERVICE_CODE_REQUIRED"
    SERVICE_UNKNOWN = "SERVICE_UNKNOWN"
    SERVICE_INACTIVE = "SERVICE_INACTIVE"
    SERVICE_RESERVED = "SERVICE_RESERVED"
    ENGAGEMENT_REQUIRED = "ENGAGEMENT_REQUIRED"
    SERVICE_OR_ENGAGEMENT_REQUIRED = "SERVICE_OR_ENGAGEMENT_REQUIRED"
    ENGAGEMENT_TOO_LONG = "ENGAGEMENT_TOO_LONG"
    ISSUE_DATE_IN_FUTURE = "ISSUE_DATE_IN_FUTURE"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
    BUSINESS_RULE = "BUSINESS_RULE"


_F = ErrorLevel.FLOW
_I = ErrorLevel.INVOICE

# code -> (level, message template). Templates use str.format fields given to `rule_error`.
CATALOGUE: dict[RuleCode, tuple[ErrorLevel, str]] = {
    RuleCode.EMPTY_FILE: (_F, "Le fichier déposé est vide."),
    RuleCode.FILE_TOO_LARGE: (
        _F,
        "Le fichier déposé ({size} octets) dépasse la taille maximale autorisée ({limit} octets).",
    ),
    RuleCode.XML_MALFORMED: (_F, "Le fichier n'est pas un document XML bien formé : {detail}"),
    RuleCode.XML_FORBIDDEN_DTD: (
        _F,
        "Le document XML contient une déclaration DOCTYPE, DTD ou d'entité, interdite : {detail}",
    ),
    RuleCode.SYNTAX_UNKNOWN: (_F, "Syntaxe de flux inconnue ou non acceptée : {detail}"),
    RuleCode.SYNTAX_MISMATCH: (
        _F,
        "La syntaxe déclarée ({declared}) ne correspond pas au contenu du fichier ({detected}).",
    ),
    RuleCode.XSD_INVALID: (_F, "Le document n'est pas conforme au schéma {schema} : {detail}"),
    RuleCode.PDF_INVALID: (_F, "Le fichier n'est pas un document PDF lisible : {detail}"),
    RuleCode.PDF_TRUNCATED: (
        _F, "Le fichier PDF est tronqué : le marqueur de fin de fichier %%EOF est absent."
    ),
    RuleCode.PDF_ENCRYPTED: (
        _F, "Le fichier PDF est chiffré ou protégé par un mot de passe : une facture Factur-X "
        "ne peut pas l'être.",
    ),
    RuleCode.PDF_TOO_COMPLEX: (
        _F, "Le fichier PDF ne peut pas être traité dans les limites autorisées : {detail}"
    ),
    RuleCode.FACTURX_NO_INVOICE: (
        _F, "Le PDF ne contient pas de facture Factur-X : aucun fichier joint factur-x.xml, "
        "zugferd-invoice.xml ou xrechnung.xml.",
    ),
    RuleCode.FACTURX_AMBIGUOUS: (
        _F, "Le PDF contient plusieurs factures jointes différentes ({names}) : impossible de "
        "savoir laquelle traiter.",
    ),
    RuleCode.FACTURX_PROFILE_MISMATCH: (
        _F, "Le profil Factur-X des métadonnées XMP du PDF ({xmp}) ne correspond pas à "
        "l'identifiant de spécification de la facture (BT-24 : {guideline}).",
    ),
    RuleCode.FACTURX_PROFILE_NOT_INVOICE: (
        _F, "Le profil Factur-X {profile} n'est pas une facture (les profils MINIMUM et BASIC WL "
        "n'ont pas les lignes de facture) : déposez un profil BASIC, EN 16931 ou EXTENDED.",
    ),
    RuleCode.SUPPLIER_NOT_PARTNER: (
        _I,
        "Le fournisseur de la facture ({supplier}) n'est pas la structure du compte technique "
        "déposant ({partner}).",
    ),
    RuleCode.RECIPIENT_MISSING: (
        _I,
        "L'identifiant du destinataire (SIRET de la structure publique) n'est pas renseigné.",
    ),
    RuleCode.RECIPIENT_UNKNOWN: (
        _I,
        "Le destinataire {recipient} n'existe pas dans l'annuaire des structures publiques.",
    ),
    RuleCode.RECIPIENT_INACTIVE: (_I, "Le destinataire {recipient} est une structure inactive."),
    RuleCode.RECIPIENT_NOT_PUBLIC: (
        _I,
        "Le destinataire {recipient} n'est pas une structure publique : il ne peut pas recevoir "
        "de facture.",
    ),
    RuleCode.SERVICE_CODE_REQUIRED: (
        _I,
        "Le code service est obligatoire pour le destinataire {recipient} et n'est pas renseigné.",
    ),
    RuleCode.SERVICE_UNKNOWN: (
        _I,
        "Le code service « {service} » n'existe pas pour le destinataire {recipient}.",
    ),
    RuleCode.SERVICE_INACTIVE: (
        _I,
        "Le service « {service} » du destinataire {recipient} n'est pas actif{reason}.",
    ),
    RuleCode.SERVICE_RESERVED: (
        _I,
        "Le service « {service} » est réservé à la facturation entre structures publiques : "
        "le fournisseur {supplier} n'est pas une structure publique.",
    ),
    RuleCode.ENGAGEMENT_REQUIRED: (
        _I,
        "Le numéro d'engagement est obligatoire pour {target} et n'est pas renseigné.",
    ),
    RuleCode.SERVICE_OR_ENGAGEMENT_REQUIRED: (
        _I,
        "Le destinataire {recipient} exige au moins le code service ou le numéro d'engagement ; "
        "aucun des deux n'est renseigné.",
    ),
    RuleCode.ENGAGEMENT_TOO_LONG: (
        _I,
        "Le numéro d'engagement dépasse {limit} caractères ({length} caractères).",
    ),
    RuleCode.ISSUE_DATE_IN_FUTURE: (
        _I,
        "La date de la facture ({issue_date}) est postérieure à la date du jour ({today}).",
    ),
    RuleCode.DUPLICATE_INVOICE: (
        _I,
        "La facture n° {number} du fournisseur {supplier} pour l'année {year} a déjà été "
        "intégrée (doublon).",
    ),
    # One finding of an official schematron (EN 16931, BR-FR, Factur-X): its own text.
    RuleCode.BUSINESS_RULE: (
        _I, "La règle {ruleset} {rule} n'est pas respectée ({severity}) : {text}"
    ),
}


class IntakeError(BaseModel):
    """One rejection reason, as shown in the acknowledgement ("compte rendu")."""

    model_config = ConfigDict(frozen=True)

    code: RuleCode
    level: ErrorLevel
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None  # XPath-like location, e.g. /Invoice/cbc:BuyerReference
    value: str | None = None  # the offending value, if any
    rule: str | None = None  # BUSINESS_RULE: the rule id, e.g. BR-CO-10, BR-FR-05_BT-22_PMT
    flag: str | None = None  # BUSINESS_RULE: "fatal" (rejects) or "warning" (reported only)


# Values come from untrusted files: keep acknowledgements and events small whatever they hold.
MAX_VALUE_CHARS = 200
MAX_DETAIL_CHARS = 1000
_LONG_PARAMS = {"detail", "text"}


def _clip(value: object, limit: int) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def level_of(code: RuleCode) -> ErrorLevel:
    return CATALOGUE[code][0]


def rule_error(
    code: RuleCode,
    *,
    line: int | None = None,
    column: int | None = None,
    path: str | None = None,
    value: str | None = None,
    rule: str | None = None,
    flag: str | None = None,
    **params: Any,
) -> IntakeError:
    """Build the error for `code`, its French message filled with `params` (each clipped)."""
    level, template = CATALOGUE[code]
    if rule is not None:
        params["rule"] = rule
    clipped = {
        name: _clip(param, MAX_DETAIL_CHARS if name in _LONG_PARAMS else MAX_VALUE_CHARS)
        for name, param in params.items()
    }
    return IntakeError(
        code=code,
        level=level,
        message=template.format(**clipped),
        line=line,
        column=column,
        path=path,
        value=None if value is None else _clip(value, MAX_VALUE_CHARS),
        rule=None if rule is None else _clip(rule, MAX_VALUE_CHARS),
        flag=flag,
    )


class IntakeRejected(Exception):
    """Raised by the flow-level steps (parsing, syntax): the whole file is rejected."""

    def __init__(self, *errors: IntakeError) -> None:
        if not errors:
            raise ValueError("IntakeRejected needs at least one error")
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.errors: tuple[IntakeError, ...] = errors

    @property
    def error(self) -> IntakeError:
        return self.errors[0]
