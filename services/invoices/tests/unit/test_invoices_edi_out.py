"""CDAR files reach the partner's out/ folder whole, and never through a symbolic link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chorale_invoices.adapters.edi_out import EdiOut, UnsafeFolder


def test_written_atomically_into_out(tmp_path: Path) -> None:
    path = EdiOut(tmp_path).write("ct-1", "20261203T100000000000Z-FAC-1-0001.cdar.xml", b"<a/>")
    assert path.read_bytes() == b"<a/>"
    assert sorted(p.name for p in (tmp_path / "ct-1" / "out").iterdir()) == [path.name]


@pytest.mark.parametrize("link", ["account", "out"])
def test_a_symbolic_link_is_not_followed(tmp_path: Path, link: str) -> None:
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    root = tmp_path / "edi"
    root.mkdir()
    if link == "account":
        os.symlink(elsewhere, root / "ct-1")
    else:
        (root / "ct-1").mkdir()
        os.symlink(elsewhere, root / "ct-1" / "out")
    with pytest.raises(UnsafeFolder):
        EdiOut(root).write("ct-1", "m.cdar.xml", b"<a/>")
    assert list(elsewhere.iterdir()) == []


def test_a_link_at_the_file_name_is_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "ct-1" / "out"
    out.mkdir(parents=True)
    target = tmp_path / "victime"
    target.write_bytes(b"intact")
    os.symlink(target, out / ".m.cdar.xml.tmp")
    with pytest.raises(OSError):
        EdiOut(tmp_path).write("ct-1", "m.cdar.xml", b"<a/>")
    assert target.read_bytes() == b"intact"


@pytest.mark.parametrize(("account", "name"), [("../x", "m.xml"), ("ct", "../m.xml"),
                                               ("ct", ".cache")])
def test_unsafe_names_are_refused(tmp_path: Path, account: str, name: str) -> None:
    with pytest.raises(ValueError):
        EdiOut(tmp_path).write(account, name, b"")
