"""What the operator-import parser produces, and the cell readers it uses.

A row carries only the columns present in the file's header (``values``, already validated
and normalised, keyed by Chorus Pro field name): a column the file does not have is left as it
is on the existing structure or service; a column present with an empty cell means "empty"
(an optional text is cleared, a box is unchecked), except ``statut`` where an empty cell
means "unchanged" (ACTIVE / ACTIF on creation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from .errors import DomainError, ErrorCode, field_error
from .identifiers import TypeIdentifiant


class LineType(StrEnum):
    STRUCTURE = "STRUCTURE"
    SERVICE = "SERVICE"


@dataclass(frozen=True, slots=True)
class StructureRow:
    line: int
    identifiant: str
    typeIdentifiant: TypeIdentifiant
    values: dict[str, Any]

    kind = LineType.STRUCTURE


@dataclass(frozen=True, slots=True)
class ServiceRow:
    line: int
    identifiant: str  # the structure's
    codeService: str
    values: dict[str, Any]

    kind = LineType.SERVICE


ImportRow = StructureRow | ServiceRow


@dataclass(frozen=True, slots=True)
class RowRejection:
    line: int
    code: ErrorCode
    reason: str  # French, for the import report
    details: dict[str, Any] = field(default_factory=dict)
    identifiant: str | None = None  # as written in the file, when readable

    @classmethod
    def from_error(cls, line: int, error: DomainError, identifiant: str | None) -> RowRejection:
        reason = error.message
        fields = error.details.get("fields")
        if isinstance(fields, dict) and fields:
            reason += " " + " ; ".join(f"{k} : {v}" for k, v in fields.items())
        return cls(line, error.code, reason, error.details, identifiant or None)


_TRUE = frozenset({"oui", "o", "vrai", "true", "1", "x", "yes", "y"})
_FALSE = frozenset({"non", "n", "faux", "false", "0", "no", ""})
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_bool(name: str, cell: str) -> bool:
    value = cell.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise field_error(name, "oui ou non attendu")


def parse_date(name: str, cell: str) -> date | None:
    value = cell.strip()
    if not value:
        return None
    if match := _ISO_DATE.match(value):
        y, m, d = match.groups()
    elif match := _FR_DATE.match(value):
        d, m, y = match.groups()
    else:
        raise field_error(name, "date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA")
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise field_error(name, "date inexistante") from None


def parse_choice(name: str, cell: str, allowed: type[StrEnum]) -> str | None:
    value = cell.strip().upper()
    if not value:
        return None
    if value not in allowed.__members__:
        raise field_error(name, "valeur attendue : " + ", ".join(allowed.__members__))
    return value


def require(name: str, cell: str) -> str:
    if not cell.strip():
        raise DomainError(ErrorCode.VALIDATION_FAILED, details={"fields": {name: "obligatoire"}})
    return cell.strip()
