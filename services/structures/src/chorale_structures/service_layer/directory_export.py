"""The directory (annuaire) export, streamed: structures are read in batches by identifiant and
written out as they come, so the export's memory does not grow with the directory."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Literal

from chorale_runtime.csv_safe import csv_writer
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.domain import directory_csv_rows
from chorale_structures.domain.directory import Sheet, directory_entries

Format = Literal["json", "csv"]
CSV_DELIMITER = ";"  # what French spreadsheets open directly; the import reads both


async def export_directory(
    store: StructureStore, fmt: Format, sheet: Sheet, batch_size: int
) -> AsyncIterator[str]:
    if fmt == "csv":
        async for text in _csv(store, sheet, batch_size):
            yield text
    else:
        async for text in _json(store, sheet, batch_size):
            yield text


async def _csv(store: StructureStore, sheet: Sheet, batch_size: int) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=CSV_DELIMITER)
    header_written = False
    yield "\ufeff"  # spreadsheets then read the file as UTF-8
    async for batch in _entries(store, batch_size):
        for name, row in _skip_headers(directory_csv_rows(batch), header_written):
            if name == sheet:
                writer.writerow(row)
        header_written = True
        yield _drain(buffer)
    if not header_written:
        for name, row in directory_csv_rows([]):
            if name == sheet:
                writer.writerow(row)
        yield _drain(buffer)


async def _json(store: StructureStore, sheet: Sheet, batch_size: int) -> AsyncIterator[str]:
    separator = "\n"
    yield "["
    async for batch in _entries(store, batch_size):
        parts = []
        for entry in directory_entries(batch, sheet):
            parts.append(separator + json.dumps(entry, ensure_ascii=False))
            separator = ",\n"
        yield "".join(parts)
    yield "\n]\n"


async def _entries(store: StructureStore, batch_size: int) -> AsyncIterator[list]:
    async for batch in store.iter_all(batch_size):
        yield [(stored.structure, list(stored.services.values())) for stored in batch]


def _skip_headers(rows, header_written: bool):
    for index, item in enumerate(rows):
        if index < 2 and header_written:
            continue  # directory_csv_rows starts with both sheets' header rows
        yield item


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
