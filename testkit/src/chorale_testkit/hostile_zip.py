"""Hostile uploads, for the tests and the benchmark.

`zip_bomb(name, mib)`: a ZIP holding one deflated member `name` that inflates to `mib` MiB of
zeros. It is crafted, not compressed: one deflate block of 1 MiB of zeros ending on a full
flush is byte-aligned and independent of what precedes it, so `mib` copies of it followed by an
empty final block are a valid raw deflate stream (about 1 KB per MiB: 1,100 MiB fit in 1.1 MB,
under the 4 MiB attachment limit). Building one of 1,100 MiB takes about 0.3 s (the CRC-32).
"""

from __future__ import annotations

import struct
import zipfile
import zlib

MIB = 1024 * 1024


def _deflated_zeros(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `mib` MiB of zeros, and their CRC-32."""
    zeros = bytes(MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # empty final block
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return block * mib + tail, crc


def zip_bomb(name: str, mib: int) -> bytes:
    data, crc = _deflated_zeros(mib)
    size, encoded = mib * MIB, name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, zipfile.ZIP_DEFLATED, 0, 0x21,
                        crc, len(data), size, len(encoded), 0) + encoded
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0,
                          zipfile.ZIP_DEFLATED, 0, 0x21, crc, len(data), size, len(encoded),
                          0, 0, 0, 0, 0, 0) + encoded
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end
