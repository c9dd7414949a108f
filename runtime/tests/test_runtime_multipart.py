"""The streaming multipart reader: the first file's bytes whatever the chunking, the small
text fields before and after it, bounded fields, other files dropped."""

import pytest

from chorale_runtime.multipart import MultipartError, MultipartReader

B = "bnd"
CT = f"multipart/form-data; boundary={B}"


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    extra = f'; filename="{filename}"' if filename else ""
    return (f'--{B}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode()
            + value + b"\r\n")


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{B}--\r\n".encode()


@pytest.mark.parametrize("size", [1, 5, 64, 10_000])
def test_file_and_fields_around_it_whatever_the_chunking(size):
    data = body(part("a", b"1"), part("file", b"<x>--bnd</x>" * 50, "f.xml"),
                part("file2", b"ignored", "g.xml"), part("syntaxeFlux", b"UBL"))
    reader = MultipartReader(CT)
    out = b"".join(p for i in range(0, len(data), size) for p in reader.feed(data[i:i + size]))
    assert out == b"<x>--bnd</x>" * 50
    assert (reader.filename, reader.file_field, reader.file_complete, reader.finished) == (
        "f.xml", "file", True, True)
    assert reader.fields == {"a": "1", "syntaxeFlux": "UBL"}


def test_not_multipart_too_many_or_too_long_fields_and_garbage_are_refused():
    with pytest.raises(MultipartError):
        MultipartReader("application/json")
    with pytest.raises(MultipartError):
        MultipartReader(CT, max_fields=2).feed(body(*(part(f"f{i}", b"v") for i in range(3))))
    with pytest.raises(MultipartError):
        MultipartReader(CT, max_field_bytes=10).feed(body(part("long", b"x" * 11)))
    with pytest.raises(MultipartError):
        MultipartReader(CT).feed(b"--bnd\r\nno header end" + b"\x00" * 10 + b"\r\n\r\n--x")


def test_a_truncated_body_is_not_finished():
    reader = MultipartReader(CT)
    reader.feed(part("file", b"<x/>", "f.xml"))
    assert not reader.finished
