import hashlib
import io
import zipfile

import pytest

from chorale_structures.domain.attachments import (
    MAX_ATTACHMENT_BYTES,
    UploadInspector,
    attachment_added,
    inspect_upload,
    safe_filename,
    sniff_content_type,
)
from chorale_structures.domain.errors import DomainError, ErrorCode


def _zip(entries: dict[str, bytes], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(first, entries.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_limit_is_exactly_4_mib():
    assert MAX_ATTACHMENT_BYTES == 4 * 1024 * 1024
    attachment = inspect_upload("gros.pdf", b"%PDF-" + b"0" * (MAX_ATTACHMENT_BYTES - 5))
    assert attachment.taille == MAX_ATTACHMENT_BYTES


def test_one_byte_over_is_too_large():
    with pytest.raises(DomainError) as info:
        inspect_upload("gros.pdf", b"0" * (MAX_ATTACHMENT_BYTES + 1))
    assert info.value.code is ErrorCode.ATTACHMENT_TOO_LARGE
    assert info.value.details == {"tailleMaximale": MAX_ATTACHMENT_BYTES}
    assert info.value.http_status == 413


def test_streamed_upload_stops_at_the_limit_without_reading_the_rest():
    consumed = []

    def chunks():
        for i in range(100):  # would be 100 MiB
            consumed.append(i)
            yield b"x" * (1024 * 1024)

    with pytest.raises(DomainError) as info:
        inspect_upload("flux.bin", chunks())
    assert info.value.code is ErrorCode.ATTACHMENT_TOO_LARGE
    assert len(consumed) == 5


@pytest.mark.parametrize("data", [b"", [], [b"", b""]])
def test_empty_upload(data):
    with pytest.raises(DomainError) as info:
        inspect_upload("vide.pdf", data)
    assert info.value.code is ErrorCode.ATTACHMENT_EMPTY


def test_attachment_metadata_and_event():
    data = b"%PDF-1.7\n" + bytes(range(256)) * 10
    inspector = UploadInspector("../../Relevé d'identité bancaire.PDF")
    inspector.feed(data[:100])
    inspector.feed(data[100:])
    attachment, stored = inspector.finish()
    digest = hashlib.sha256(data).hexdigest()
    assert stored == data
    assert (attachment.nom, attachment.typeContenu, attachment.taille, attachment.sha256) == (
        "Releve_d_identite_bancaire.PDF",
        "application/pdf",
        len(data),
        digest,
    )
    assert attachment.nomStockage == f"{digest}-Releve_d_identite_bancaire.PDF"
    event = attachment_added("20007104100046", "pj-1", attachment)
    assert event.event_type == "structure.attachment_added"
    assert (event.attachmentId, event.sha256, event.taille) == ("pj-1", digest, len(data))


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (_zip({"a.txt": b"bonjour"}), "application/zip"),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), DOCX),
        (_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}), XLSX),
        (_zip({"mimetype": ODT.encode(), "content.xml": b"<o/>"}, first="mimetype"), ODT),
        (b"PK\x03\x04 truncated archive", "application/zip"),
        (b'<?xml version="1.0"?><Invoice/>', "application/xml"),
        (b'\xef\xbb\xbf  <?xml version="1.0" encoding="UTF-8"?><a/>', "application/xml"),
        ("Relevé d'identité\nbancaire\n".encode(), "text/plain"),
        (b"\xef\xbb\xbfidentifiant;raisonSociale\r\n", "text/plain"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "application/octet-stream"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "application/octet-stream"),
        (b"\x00\x01\x02\x03", "application/octet-stream"),
        ("latin-1 é".encode("latin-1"), "application/octet-stream"),
    ],
)
def test_sniffing(data, expected):
    assert sniff_content_type(data) == expected


def test_sniffing_ignores_the_file_name():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
    assert inspect_upload("facture.pdf", png).typeContenu == "image/png"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("rib.pdf", "rib.pdf"),
        ("C:\\Users\\Jeane\\Mon RIB (2025).pdf", "Mon_RIB_2025.pdf"),
        ("../../etc/passwd", "passwd"),
        (".htaccess", "htaccess"),
        ("Fâcture été.xlsx", "Facture_ete.xlsx"),
        ("", "fichier"),
        (None, "fichier"),
        ("////", "fichier"),
        ("日本語.pdf", "fichier.pdf"),
        ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
        ("archive.tar.gz", "archive.tar.gz"),
        ("rapport.", "rapport"),
        ("x.<script>", "x._script"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected
