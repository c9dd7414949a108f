"""Streaming parser of the operator import of public structures (docs/import-format.md).

:func:`iter_import_rows` reads the file line by line (the csv module pulls lines from the
iterable as it needs them) and yields, in file order, one :class:`StructureRow`,
:class:`ServiceRow` or :class:`RowRejection` per non-blank record; nothing is kept from one
record to the next, so memory does not grow with the file. Lines may be ``str`` or UTF-8
``bytes`` (a BOM on the first line is dropped; a line that is not UTF-8 is rejected alone).
The delimiter is ``;`` when the header line has one, else ``,``. A header the parser cannot
trust (unknown or duplicated column, no ``identifiant``) is a file-level DomainError
(IMPORT_HEADER_INVALID) raised before any row is yielded.

Validation here is everything that can be decided from the line alone; what depends on the
stored state (the structure exists, the code is free, merged parameters are coherent) is
decided by :mod:`import_apply` (:func:`classify`, :func:`apply_structure_row`, ...).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from chorale_contracts.events.common import StatutService, StatutStructure

from .errors import DomainError, ErrorCode, field_error, from_validation_error
from .identifiers import TypeIdentifiant, validate_identifier
from .import_apply import (
    ImportOutcome,
    ImportResult,
    apply_service_row,
    apply_structure_row,
    classify,
)
from .import_rows import (
    ImportRow,
    LineType,
    RowRejection,
    ServiceRow,
    StructureRow,
    parse_bool,
    parse_choice,
    parse_date,
    require,
)
from .parameters import PARAMETER_FIELDS, PresenceMOA
from .services import RESERVED_SERVICE_CODE, SERVICE_FIELDS, Service, normalize_service_code
from .structures import ADDRESS_FIELDS, GENERAL_FIELDS, Structure, TypeStructure

__all__ = [
    "COLUMNS",
    "ImportOutcome",
    "ImportResult",
    "ImportRow",
    "RowRejection",
    "ServiceRow",
    "StructureRow",
    "apply_service_row",
    "apply_structure_row",
    "classify",
    "iter_import_rows",
]

_STRUCTURE_VALUE_COLUMNS = (*GENERAL_FIELDS, *ADDRESS_FIELDS, *PARAMETER_FIELDS)
_SERVICE_VALUE_COLUMNS = tuple(c for c in SERVICE_FIELDS if c != "codeService")
COLUMNS = tuple(
    dict.fromkeys(
        (
            "type",
            "identifiant",
            "typeIdentifiant",
            "typeStructure",
            "statut",
            *_STRUCTURE_VALUE_COLUMNS,
            *SERVICE_FIELDS,
        )
    )
)
_BY_LOWER = {c.lower(): c for c in COLUMNS}
_BOOL_COLUMNS = frozenset(
    {"nonDiffusibleInsee", *PARAMETER_FIELDS, "numeroEJDoitEtreRenseigne"} - {"presenceMOA"}
)


def _header_error(reason: str, **details: Any) -> DomainError:
    return DomainError(
        ErrorCode.IMPORT_HEADER_INVALID,
        f"La ligne d'en-tête du fichier est invalide : {reason}",
        details,
    )


def _read_header(cells: list[str]) -> tuple[list[str], LineType | None]:
    names = [c.strip().lstrip("\ufeff") for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing separators left by spreadsheets
    unknown = [n for n in names if n.lower() not in _BY_LOWER]
    if unknown:
        raise _header_error("colonnes inconnues", colonnesInconnues=unknown, colonnes=COLUMNS)
    columns = [_BY_LOWER[n.lower()] for n in names]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise _header_error("colonnes en double", colonnesEnDouble=duplicated)
    if "identifiant" not in columns:
        raise _header_error("la colonne identifiant est obligatoire")
    if "type" in columns:
        return columns, None
    # Without a type column the file is one of the two sheets of a directory export.
    if "codeService" in columns and "raisonSociale" not in columns:
        return columns, LineType.SERVICE
    if "codeService" not in columns:
        return columns, LineType.STRUCTURE
    raise _header_error("la colonne type (STRUCTURE ou SERVICE) est obligatoire")


def _decode(lines: Iterable[str | bytes], bad_lines: set[int]) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes | bytearray):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                bad_lines.add(number)
                text = line.decode("utf-8", "replace")
            line = text
        elif number == 1:
            line = line.removeprefix("\ufeff")
        yield line


def _structure_row(line: int, cells: dict[str, str]) -> StructureRow:
    type_id = parse_choice("typeIdentifiant", cells.get("typeIdentifiant", ""), TypeIdentifiant)
    type_id = TypeIdentifiant(type_id or TypeIdentifiant.SIRET)
    identifiant = validate_identifier(type_id, require("identifiant", cells["identifiant"]))
    if cells.get("typeStructure", "").strip().upper() not in ("", TypeStructure.PUBLIQUE):
        raise field_error("typeStructure", "seules les structures publiques s'importent")
    values: dict[str, Any] = {
        "raisonSociale": require("raisonSociale", cells.get("raisonSociale", ""))
    }
    for name in _STRUCTURE_VALUE_COLUMNS:
        if name not in cells or name == "raisonSociale":
            continue
        cell = cells[name]
        if name in _BOOL_COLUMNS:
            values[name] = parse_bool(name, cell)
        elif name == "presenceMOA":
            values[name] = parse_choice(name, cell, PresenceMOA) or PresenceMOA.SANS_MOA
        else:
            values[name] = cell.strip() or (None if name != "pays" else "FR")
    if statut := parse_choice("statut", cells.get("statut", ""), StatutStructure):
        values["statut"] = statut
    params = {k: values[k] for k in PARAMETER_FIELDS if k in values}
    general = {k: v for k, v in values.items() if k not in PARAMETER_FIELDS and k != "statut"}
    try:  # validates every present field and the parameters combination, and normalises
        trial = Structure.model_validate(
            {
                "identifiant": identifiant,
                "typeIdentifiant": type_id,
                "typeStructure": TypeStructure.PUBLIQUE,
                **general,
                "parametres": params,
            }
        )
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    normalised = {k: getattr(trial, k) for k in general}
    normalised.update({k: getattr(trial.parametres, k) for k in params})
    if "statut" in values:
        normalised["statut"] = StatutStructure(values["statut"])
    return StructureRow(line, identifiant, type_id, normalised)


def _service_row(line: int, cells: dict[str, str]) -> ServiceRow:
    type_id = parse_choice("typeIdentifiant", cells.get("typeIdentifiant", ""), TypeIdentifiant)
    identifiant = validate_identifier(
        type_id or TypeIdentifiant.SIRET, require("identifiant", cells["identifiant"])
    )
    code = normalize_service_code(require("codeService", cells.get("codeService", "")))
    if code == RESERVED_SERVICE_CODE:
        raise DomainError(ErrorCode.SERVICE_CODE_RESERVED, details={"codeService": code})
    values: dict[str, Any] = {
        "libelle": require("libelle", cells.get("libelle", "")),
        "dateDebutActivation": parse_date(
            "dateDebutActivation",
            require("dateDebutActivation", cells.get("dateDebutActivation", "")),
        ),
    }
    if "description" in cells:
        values["description"] = cells["description"].strip() or None
    if "dateFinActivation" in cells:
        values["dateFinActivation"] = parse_date("dateFinActivation", cells["dateFinActivation"])
    if "numeroEJDoitEtreRenseigne" in cells:
        values["numeroEJDoitEtreRenseigne"] = parse_bool(
            "numeroEJDoitEtreRenseigne", cells["numeroEJDoitEtreRenseigne"]
        )
    try:
        trial = Service.model_validate({"codeService": code, **values})
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    normalised = {k: getattr(trial, k) for k in values}
    if statut := parse_choice("statut", cells.get("statut", ""), StatutService):
        normalised["statut"] = StatutService(statut)
    return ServiceRow(line, identifiant, code, normalised)


def _row(line: int, columns: list[str], record: list[str], fixed: LineType | None,
         cell: Callable[[str], str]) -> ImportRow:
    if len(record) > len(columns) and any(c.strip() for c in record[len(columns) :]):
        raise DomainError(
            ErrorCode.IMPORT_LINE_MALFORMED,
            f"La ligne compte {len(record)} cellules pour {len(columns)} colonnes.",
            {"cellules": len(record), "colonnes": len(columns)},
        )
    values = (cell(value) for value in record)
    cells = dict(zip(columns, itertools.chain(values, itertools.repeat("")), strict=False))
    kind = fixed or cells["type"].strip().upper()
    if kind == LineType.STRUCTURE:
        return _structure_row(line, cells)
    if kind == LineType.SERVICE:
        return _service_row(line, cells)
    raise DomainError(ErrorCode.IMPORT_TYPE_UNKNOWN, details={"type": cells["type"]})


def _identifiant_cell(columns: list[str], record: list[str]) -> str | None:
    index = columns.index("identifiant")
    return record[index].strip() if index < len(record) else None


def iter_import_rows(
    lines: Iterable[str | bytes], cell: Callable[[str], str] = str
) -> Iterator[ImportRow | RowRejection]:
    """Parse the import file lazily; see the module docstring. `cell` reads each cell (the
    service passes `chorale_runtime.csv_safe.restore`: a directory export quotes the cells a
    spreadsheet would run, and they read back as they were stored)."""
    bad_lines: set[int] = set()
    decoded = _decode(lines, bad_lines)
    first = next(decoded, None)
    if first is None or not first.strip():
        raise _header_error("le fichier est vide")
    delimiter = ";" if ";" in first else ","
    columns, fixed = _read_header(next(csv.reader([first], delimiter=delimiter)))
    reader = csv.reader(decoded, delimiter=delimiter)
    consumed = 1
    while True:
        start = consumed + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            consumed = 1 + reader.line_num
            yield RowRejection(start, ErrorCode.IMPORT_LINE_MALFORMED, f"Ligne illisible : {exc}.")
            continue
        consumed = 1 + reader.line_num
        record_lines = range(start, consumed + 1)
        undecodable = any(n in bad_lines for n in record_lines)
        bad_lines.difference_update(record_lines)
        if not any(cell.strip() for cell in record):
            continue  # blank line
        identifiant = _identifiant_cell(columns, record)
        if undecodable:
            yield RowRejection(
                start,
                ErrorCode.IMPORT_LINE_MALFORMED,
                "Encodage invalide : UTF-8 attendu.",
                identifiant=identifiant,
            )
            continue
        try:
            yield _row(start, columns, record, fixed, cell)
        except DomainError as error:
            yield RowRejection.from_error(start, error, identifiant)
