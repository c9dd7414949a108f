"""CSV exports that a spreadsheet cannot turn into formulas.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel and
LibreOffice as a formula (`=HYPERLINK("http://evil.example", "Cliquez")` in a raison sociale
would reach every user who opens the export). Per OWASP's "CSV injection" advice, such a cell is
prefixed with a single quote: the spreadsheet shows the text as typed. Every CSV the platform
writes goes through `csv_writer` (or `neutralise` for one cell); an import that reads such
files back (the directory import) undoes the quote with `restore`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell's text, quoted with a leading `'` when a spreadsheet would run it. A plain
    number (`-12.50`, a credit note's amount) is no formula and is written as it is."""
    text = "" if value is None else str(value)
    if not text.startswith(FORMULA_LEADS) or _is_number(text):
        return text
    return "'" + text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in ("nan", "inf", "infinity")


def restore(text: str) -> str:
    """The inverse, for imports: a cell an export quoted reads back as it was stored."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_LEADS) else text


class SafeCsvWriter:
    """`csv.writer` whose every cell is neutralised first."""

    def __init__(self, stream: TextIO, *, delimiter: str = ";", lineterminator: str = "\r\n"):
        self._writer = csv.writer(stream, delimiter=delimiter, lineterminator=lineterminator)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: TextIO, *, delimiter: str = ";") -> SafeCsvWriter:
    """The writer for every CSV export (`;`: what French spreadsheets open directly)."""
    return SafeCsvWriter(stream, delimiter=delimiter)


def csv_document(rows: Iterable[Iterable[Any]], *, delimiter: str = ";") -> bytes:
    """A whole CSV file: UTF-8 with a BOM (spreadsheets then read it as UTF-8), CRLF, every
    cell neutralised. Domains build the rows (pure); this writes them."""
    buffer = io.StringIO()
    csv_writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
