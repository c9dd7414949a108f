import asyncio

import pytest

from chorale_structures.adapters.multipart_stream import FilePartReader
from chorale_structures.domain import MAX_ATTACHMENT_BYTES, DomainError, ErrorCode
from chorale_structures.service_layer.attachments import read_upload

BOUNDARY = "xYz"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _body(data: bytes, filename: str = "rib.pdf") -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"commentaire\"\r\n\r\nRIB\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; "
        f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _chunks(body: bytes, size: int):
    return [body[i:i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_the_file_comes_out_whatever_the_chunking(size):
    data = b"%PDF-1.4\r\n--" + bytes(range(256)) * 10
    reader = FilePartReader(CONTENT_TYPE)
    out = b"".join(piece for chunk in _chunks(_body(data), size) for piece in reader.feed(chunk))
    assert out == data
    assert (reader.filename, reader.complete) == ("rib.pdf", True)


def test_not_multipart_is_a_validation_error():
    with pytest.raises(DomainError) as info:
        FilePartReader("application/json")
    assert info.value.code is ErrorCode.VALIDATION_FAILED


async def _stream(chunks, pulled):
    for chunk in chunks:
        pulled.append(len(chunk))
        yield chunk
        await asyncio.sleep(0)


async def test_reading_stops_as_soon_as_the_file_passes_the_limit():
    body = _body(b"x" * (MAX_ATTACHMENT_BYTES * 4))
    pulled: list[int] = []
    with pytest.raises(DomainError) as info:
        await read_upload(CONTENT_TYPE, None, _stream(_chunks(body, 65536), pulled))
    assert info.value.code is ErrorCode.ATTACHMENT_TOO_LARGE
    assert sum(pulled) <= MAX_ATTACHMENT_BYTES + 2 * 65536


async def test_a_declared_length_over_the_limit_reads_nothing():
    pulled: list[int] = []
    with pytest.raises(DomainError) as info:
        await read_upload(CONTENT_TYPE, str(MAX_ATTACHMENT_BYTES * 2),
                          _stream([b"never read"], pulled))
    assert (info.value.code, pulled) == (ErrorCode.ATTACHMENT_TOO_LARGE, [])


async def test_a_file_of_exactly_the_limit_passes():
    data = b"%PDF-" + b"0" * (MAX_ATTACHMENT_BYTES - 5)
    inspector = await read_upload(CONTENT_TYPE, None,
                                  _stream(_chunks(_body(data), 1 << 20), []))
    attachment, content = inspector.finish()
    assert (attachment.taille, attachment.typeContenu, content == data) == (
        MAX_ATTACHMENT_BYTES, "application/pdf", True
    )
