"""One function neutralises spreadsheet formulas, and every CSV export in the code base uses
it (a new `csv.writer` elsewhere fails this test)."""

import io
import re
from pathlib import Path

import pytest

from chorale_runtime.csv_safe import csv_writer, neutralise

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("cell", ["=1+1", "+33 1 02", "-2+3", "-A1", "@SUM(A1)", "\tx", "\rx",
                                  "-nan", '=HYPERLINK("http://evil.example","x")'])
def test_cells_a_spreadsheet_would_run_are_quoted(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Mairie", "", "20007104100046", "a=b", " =1", "'=1"])
def test_other_cells_are_kept_as_they_are(cell):
    assert neutralise(cell) == cell


def test_none_and_plain_numbers_are_written_as_they_are():
    """A credit note's negative amount stays a number: no formula can hide in `-12.50`."""
    assert (neutralise(None), neutralise(12), neutralise(-3), neutralise("-12.50")) == (
        "", "12", "-3", "-12.50")


def test_the_writer_neutralises_every_cell_and_separates_with_semicolons():
    buffer = io.StringIO()
    csv_writer(buffer).writerows([["a", "=b"], ["@c", None]])
    assert buffer.getvalue() == "a;'=b\r\n'@c;\r\n"


def test_no_csv_is_written_anywhere_but_through_csv_safe():
    offenders = []
    for path in ROOT.glob("*/**/src/**/*.py"):
        if ".venv" in path.parts or path.name == "csv_safe.py":
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
