"""Attachments ("pièces jointes") of a structure: size limits, sniffed type, checksum, name.

- Size: 1 byte to 4 MiB (4 * 1024 * 1024 bytes) inclusive; ATTACHMENT_EMPTY /
  ATTACHMENT_TOO_LARGE otherwise. :class:`UploadInspector` consumes the upload in chunks and
  refuses as soon as the limit is passed, so an oversized upload is never held in memory.
- Content type: sniffed from the bytes, never taken from the client or the file name: PDF,
  PNG, JPEG, GIF, ZIP and the OOXML / OpenDocument formats inside (docx, xlsx, pptx, odt, ods),
  XML (``<?xml`` prolog), plain UTF-8 text; anything else is application/octet-stream. HTML is
  deliberately not recognised (it would be served as text/html and run in the browser).
  Inside a ZIP, only the central directory is read, plus at most ``ZIP_MEMBER_READ_LIMIT``
  bytes of the ODF ``mimetype`` member (stored or deflated only): a 4 MiB upload may declare a
  member that inflates to gigabytes (a zip bomb), so no member is ever decompressed whole.
  Sniffing a 4 MiB upload is CPU work: the service layer runs it in a worker thread.
- ``nom`` is the user's file name made safe for display and Content-Disposition; the storage
  name adds the SHA-256 so two files never collide and a name can never reach a path.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from chorale_contracts.events.structures import AttachmentAdded, AttachmentDeleted

from .errors import DomainError, ErrorCode

MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024
OCTET_STREAM = "application/octet-stream"
_OOXML = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
_ODF = (
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)
# The ODF `mimetype` member is a few dozen bytes; nothing more of any member is ever inflated.
ZIP_MEMBER_READ_LIMIT = 4 * 1024
_SNIFFABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # bounded reads only
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    nom: str
    typeContenu: str
    taille: int
    sha256: str
    nomStockage: str


def read_member_head(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """At most `limit` bytes of a member, whatever size it claims or inflates to. Deflate is
    read through `ZipExtFile.read(n)`, which inflates with a bounded output size; bzip2 and
    LZMA members are not read at all (their decompressors take no output bound)."""
    info = archive.getinfo(name)
    if info.compress_type not in _SNIFFABLE_COMPRESSION:
        return b""
    with archive.open(info) as member:
        return member.read(limit)


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                head = read_member_head(archive, "mimetype", ZIP_MEMBER_READ_LIMIT)
                declared = head.decode("ascii", "replace").strip()
                if declared in _ODF:
                    return declared
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, KeyError, EOFError,
            NotImplementedError):
        return "application/zip"
    for marker, mime in _OOXML.items():
        if marker in names and "[Content_Types].xml" in names:
            return mime
    return "application/zip"


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not _TEXT_CONTROL.search(text)


def sniff_content_type(data: bytes) -> str:
    """Content type from magic bytes (see module docstring)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data)
    head = data[:512].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<?xml") and _is_text(data):
        return "application/xml"
    if _is_text(data) and not head.lower().startswith((b"<!doctype html", b"<html")):
        return "text/plain"
    return OCTET_STREAM


def safe_filename(name: str | None, *, max_length: int = 100) -> str:
    """ASCII letters, digits, ``._-`` only; no directory part, no leading dot, extension kept."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip(". ") or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = base, ""
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = _UNSAFE.sub("_", stem).strip("._-") or "fichier"
    ext = f".{ext}" if ext else ""
    return stem[: max_length - len(ext)].rstrip("._-") + ext


class UploadInspector:
    """Feed the upload chunk by chunk; :meth:`finish` gives the attachment and its bytes."""

    def __init__(self, filename: str | None) -> None:
        self._filename = filename
        self._buffer = bytearray()
        self._hash = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        if len(self._buffer) + len(chunk) > MAX_ATTACHMENT_BYTES:
            raise DomainError(
                ErrorCode.ATTACHMENT_TOO_LARGE,
                details={"tailleMaximale": MAX_ATTACHMENT_BYTES},
            )
        self._buffer += chunk
        self._hash.update(chunk)

    def finish(self) -> tuple[Attachment, bytes]:
        if not self._buffer:
            raise DomainError(ErrorCode.ATTACHMENT_EMPTY)
        data = bytes(self._buffer)
        digest = self._hash.hexdigest()
        nom = safe_filename(self._filename)
        attachment = Attachment(
            nom=nom,
            typeContenu=sniff_content_type(data),
            taille=len(data),
            sha256=digest,
            nomStockage=f"{digest}-{nom}",
        )
        return attachment, data


def inspect_upload(filename: str | None, data: bytes | Iterable[bytes]) -> Attachment:
    """Validate an upload given whole or as chunks; raises ATTACHMENT_EMPTY / _TOO_LARGE."""
    inspector = UploadInspector(filename)
    for chunk in [data] if isinstance(data, bytes | bytearray) else data:
        inspector.feed(bytes(chunk))
    return inspector.finish()[0]


def attachment_added(structure_id: str, attachment_id: str, att: Attachment) -> AttachmentAdded:
    return AttachmentAdded(
        identifiant=structure_id,
        attachmentId=attachment_id,
        nom=att.nom,
        typeContenu=att.typeContenu,
        taille=att.taille,
        sha256=att.sha256,
    )


def attachment_deleted(structure_id: str, attachment_id: str, att: Attachment) -> AttachmentDeleted:
    return AttachmentDeleted(
        identifiant=structure_id,
        attachmentId=attachment_id,
        nom=att.nom,
        typeContenu=att.typeContenu,
        taille=att.taille,
        sha256=att.sha256,
    )
