"""A ZIP upload whose member inflates past 1 GB (see `chorale_testkit.hostile_zip`): sniffing
its content type reads a few KiB of it, in bounded memory, and off the event loop. How long
sniffing takes is a benchmark figure (`make bench BENCH_ARGS=structures`), not asserted here."""

from __future__ import annotations

import asyncio
import io
import threading
import tracemalloc
import zipfile
from types import SimpleNamespace

import pytest

from chorale_structures.domain.attachments import (
    MAX_ATTACHMENT_BYTES,
    ZIP_MEMBER_READ_LIMIT,
    inspect_upload,
    sniff_content_type,
)
from chorale_structures.service_layer import attachments as attachments_service
from chorale_structures.service_layer.attachments import Attachments
from chorale_structures.service_layer.context import Actor
from chorale_testkit.hostile_zip import MIB, zip_bomb

BOMB_MIB = 1100  # inflates to 1,153,433,600 bytes: past 1 GB


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = zip_bomb("mimetype", BOMB_MIB)
    assert len(data) < MAX_ATTACHMENT_BYTES
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        [info] = archive.infolist()
        assert info.file_size > 10**9 and info.compress_type == zipfile.ZIP_DEFLATED
    return data


@pytest.fixture
def inflated(monkeypatch) -> list[int]:
    """Bytes produced by every raw-deflate decompressor zipfile creates."""
    produced: list[int] = []
    real = zipfile._get_decompressor

    class Counting:
        def __init__(self, inner):
            self._inner = inner

        def decompress(self, data, max_length=0):
            out = self._inner.decompress(data, max_length)
            produced.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self._inner, name)

    monkeypatch.setattr(zipfile, "_get_decompressor", lambda kind: Counting(real(kind)))
    return produced


def test_sniffing_a_bomb_inflates_a_few_kib_in_bounded_memory(bomb, inflated):
    tracemalloc.start()
    try:
        kind = sniff_content_type(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - len(bomb) < 50 * MIB, f"peak {peak / MIB:.0f} MiB while sniffing"
    assert sum(inflated) <= 2 * ZIP_MEMBER_READ_LIMIT + 64 * 1024
    assert kind == "application/zip"


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_an_odf_document_is_still_recognised(compression):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=compression)
        archive.writestr("content.xml", "<x/>" * 1000, compress_type=zipfile.ZIP_DEFLATED)
    assert sniff_content_type(buffer.getvalue()) == "application/vnd.oasis.opendocument.text"


def test_a_bzip2_member_is_not_inflated_at_all(inflated):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", bytes(4 * MIB), compress_type=zipfile.ZIP_BZIP2)
    assert sniff_content_type(buffer.getvalue()) == "application/zip"
    assert inflated == []


class _Store:
    def __init__(self):
        self.added = None

    async def add(self, identifiant, attachment_id, attachment, data, envelopes, now):
        self.added = attachment
        return {"idPieceJointe": attachment_id}


class _Structures:
    async def get(self, identifiant):
        return SimpleNamespace(identifiant=identifiant)


async def test_the_upload_is_sniffed_off_the_event_loop(bomb, monkeypatch):
    loop_thread = threading.get_ident()
    sniffed_in: list[int] = []
    real = attachments_service.UploadInspector.finish

    def finish(self):
        sniffed_in.append(threading.get_ident())
        return real(self)

    monkeypatch.setattr(attachments_service.UploadInspector, "finish", finish)
    boundary = "b0mb"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; "
            f"filename=\"bombe.zip\"\r\n\r\n").encode() + bomb + f"\r\n--{boundary}--\r\n".encode()

    async def chunks():
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]
            await asyncio.sleep(0)

    store = _Store()
    service = Attachments(store, _Structures(), bank=None)
    await service.upload("20007104100046", f"multipart/form-data; boundary={boundary}",
                         str(len(body)), chunks(), Actor("u1", "c1"))
    assert store.added.typeContenu == "application/zip"
    assert sniffed_in and loop_thread not in sniffed_in


def test_inspect_upload_of_the_bomb_keeps_its_bytes_as_sent(bomb):
    attachment = inspect_upload("bombe.zip", bomb)
    assert (attachment.taille, attachment.typeContenu) == (len(bomb), "application/zip")
