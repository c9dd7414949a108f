"""Streaming reader of a ``multipart/form-data`` upload: the first file's bytes as they are
decoded, plus the small text fields around it.

Starlette's form parsing reads (and spools) the whole body before the handler runs, whatever
`Content-Length` said (a chunked body has none; some servers let a body run past it): an upload
limit must instead be enforced while reading, so that an oversized body is refused as soon as
the limit is passed. This feeds the request's chunks to python-multipart's push parser. Text
fields are kept (at most `max_fields`, each at most `max_field_bytes`); the data of any file
part after the first is dropped.
"""

from __future__ import annotations

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header


class MultipartError(ValueError):
    """The body is not the expected multipart form (French message, for the caller's error)."""


class MultipartReader:
    def __init__(self, content_type: str | None, *, max_fields: int = 8,
                 max_field_bytes: int = 1024):
        kind, params = parse_options_header(content_type or "")
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise MultipartError("envoi multipart/form-data attendu")
        self.filename: str | None = None
        self.file_field: str | None = None
        self.fields: dict[str, str] = {}
        self.file_complete = False
        self.finished = False  # the closing boundary was read
        self._max_fields = max_fields
        self._max_field_bytes = max_field_bytes
        self._part: str | None = None  # "file", "field" or None (ignored)
        self._name = ""
        self._value = bytearray()
        self._pieces: list[bytes] = []
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> list[bytes]:
        """The file bytes found in ``chunk`` (maybe none)."""
        if self.finished or not chunk:
            return []
        try:
            self._parser.write(chunk)
        except MultipartParseError:
            raise MultipartError("corps multipart illisible") from None
        pieces, self._pieces = self._pieces, []
        return pieces

    # -- parser callbacks ---------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.strip().lower()] = self._header_value.strip()
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in params:
            if self.filename is None and not self.file_complete:
                self._part = "file"
                self.file_field = name
                self.filename = params[b"filename"].decode("utf-8", "replace")
            else:
                self._part = None  # a second file: not read
        else:
            if len(self.fields) >= self._max_fields:
                raise MultipartError("trop de champs dans le formulaire")
            self._part, self._name, self._value = "field", name, bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "file":
            self._pieces.append(data[start:end])
        elif self._part == "field":
            self._value += data[start:end]
            if len(self._value) > self._max_field_bytes:
                raise MultipartError(f"champ « {self._name} » trop long")

    def _part_end(self) -> None:
        if self._part == "file":
            self.file_complete = True
        elif self._part == "field":
            self.fields[self._name] = self._value.decode("utf-8", "replace")
        self._part = None

    def _end(self) -> None:
        self.finished = True
