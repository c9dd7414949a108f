"""The first file of a ``multipart/form-data`` upload, streamed (see
`chorale_runtime.multipart`): its malformations are this service's VALIDATION_FAILED on the
field ``fichier``. Parts after the first file are not read at all (the caller stops)."""

from __future__ import annotations

from chorale_runtime.multipart import MultipartError, MultipartReader
from chorale_structures.domain.errors import field_error


class FilePartReader:
    def __init__(self, content_type: str | None):
        try:
            # Text fields are not used here, only bounded (a form's comment, CSRF token...).
            self._reader = MultipartReader(content_type, max_fields=32,
                                           max_field_bytes=16 * 1024)
        except MultipartError as exc:
            raise field_error("fichier", f"{exc} (champ fichier)") from None

    @property
    def filename(self) -> str | None:
        return self._reader.filename

    @property
    def complete(self) -> bool:
        return self._reader.file_complete

    def feed(self, chunk: bytes) -> list[bytes]:
        """The file bytes found in ``chunk`` (maybe none)."""
        if self.complete:
            return []
        try:
            return self._reader.feed(chunk)
        except MultipartError as exc:
            raise field_error("fichier", str(exc)) from None
