"""Streaming reader of the first file of a ``multipart/form-data`` body.

Starlette's form parsing reads (and spools) the whole body before the handler runs; an upload
limit must instead be enforced while reading, so that an oversized body is refused after the
limit, not after it has all arrived. This feeds the request's chunks to python-multipart's
push parser and hands out the file's bytes as they are decoded. Other (text) fields are
ignored; parts after the first file are not read at all.
"""

from __future__ import annotations

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from chorale_structures.domain.errors import field_error


class FilePartReader:
    def __init__(self, content_type: str | None):
        kind, params = parse_options_header(content_type or "")
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise field_error("fichier", "envoi multipart/form-data attendu (champ fichier)")
        self.filename: str | None = None
        self.complete = False
        self._in_file = False
        self._pieces: list[bytes] = []
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def feed(self, chunk: bytes) -> list[bytes]:
        """The file bytes found in ``chunk`` (maybe none)."""
        if self.complete or not chunk:
            return []
        try:
            self._parser.write(chunk)
        except MultipartParseError:
            raise field_error("fichier", "corps multipart illisible") from None
        pieces, self._pieces = self._pieces, []
        return pieces

    # -- parser callbacks ---------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" in params and not self.complete:
            self._in_file = True
            self.filename = params[b"filename"].decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pieces.append(data[start:end])

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self.complete = True
