"""EDI folders and the raw archive, on a local file system: what is taken, when, and how a
batch is archived and recovered after a crash."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from chorale_intake.adapters.archive import Archive, Move
from chorale_intake.adapters.edi_folders import (
    EdiFolders,
    is_complete,
    is_safe_account_id,
    is_temporary,
)


def test_temporary_and_hidden_names_are_never_taken():
    for name in (".x.xml", "x.xml.tmp", "x.PART", "x.xml.filepart", "x.partial"):
        assert is_temporary(name)
    for name in ("x.xml", "facture.tmp.xml", "x"):
        assert not is_temporary(name)


def test_a_renamed_file_is_complete_at_once_a_written_one_after_the_settle_delay(tmp_path):
    written = tmp_path / "w.xml"
    written.write_bytes(b"<a/>")
    stat = written.stat()
    now = time.time_ns()
    if stat.st_ctime_ns == stat.st_mtime_ns:  # written in place: wait for the delay
        assert not is_complete(stat, now, settle_ns=10**9)
        assert is_complete(stat, now + 10**9, settle_ns=10**9)
    staged = tmp_path / "s.tmp"
    staged.write_bytes(b"<a/>")
    os.utime(staged, ns=(now - 10**9, now - 10**9))  # written a second ago
    os.rename(staged, tmp_path / "s.xml")  # then renamed in: ctime > mtime
    assert is_complete((tmp_path / "s.xml").stat(), now, settle_ns=10**12)


def test_account_ids_that_could_escape_the_root_are_refused():
    assert is_safe_account_id("c1f0e7a2-3b4d-4c5e-8f90-123456789abc")
    for bad in ("../x", "a/b", ".hidden", "", "a..b", "x" * 200):
        assert not is_safe_account_id(bad)
    with pytest.raises(ValueError):
        EdiFolders(Path("/nonexistent"), 1).ensure("../../etc")


def test_candidates_are_bounded_and_skip_what_is_not_ready(tmp_path):
    folders = EdiFolders(tmp_path, settle_delay=3600)
    folders.ensure("ta")
    inbox = folders.inbox("ta")
    old = time.time_ns() - 10**9
    for i in range(5):
        path = inbox / f"f{i}.xml"
        path.write_bytes(b"<a/>")
        os.utime(path, ns=(old, old))
        os.rename(path, inbox / f"r{i}.xml")
    (inbox / "writing.xml").write_bytes(b"<a")  # in place, just now: not settled
    (inbox / "up.xml.part").write_bytes(b"<a")
    (inbox / "dir").mkdir()
    (inbox / "link.xml").symlink_to(tmp_path / "elsewhere.xml")
    assert len(folders.candidates("ta", limit=3)) == 3
    names = {c.name for c in folders.candidates("ta", limit=100)}
    assert names == {f"r{i}.xml" for i in range(5)}
    skip = frozenset({str(inbox / "r0.xml")})
    assert "r0.xml" not in {c.name for c in folders.candidates("ta", 100, skip)}
    assert folders.count_waiting("ta") == 8  # what a partner sees waiting (no temp names)
    assert folders.candidates("unknown", 10) == []


def test_a_cr_replaces_the_previous_one_atomically(tmp_path):
    folders = EdiFolders(tmp_path, 1)
    folders.ensure("ta")
    folders.write_cr("ta", "FLX1", b'{"statut": "IN_EN_ATTENTE_TRAITEMENT"}')
    folders.write_cr("ta", "FLX1", b'{"statut": "IN_INTEGRE"}')
    assert os.listdir(folders.outbox("ta")) == ["FLX1.cr.json"]
    assert b"IN_INTEGRE" in (folders.outbox("ta") / "FLX1.cr.json").read_bytes()
    for path in folders.outbox("ta").iterdir():
        path.unlink()
    folders.outbox("ta").rmdir()  # the partner removed out/
    folders.write_cr("ta", "FLX2", b"{}")
    assert (folders.outbox("ta") / "FLX2.cr.json").exists()


def moves(tmp_path: Path, count: int) -> tuple[Archive, list[Move]]:
    folders = EdiFolders(tmp_path / "edi", 1)
    (tmp_path / "edi").mkdir()
    folders.ensure("ta")
    archive = Archive(tmp_path / "archive", "i1", folders)
    archive.prepare()
    inbox = folders.inbox("ta")
    result = []
    for i in range(count):
        source = inbox / f"f{i}.xml"
        source.write_bytes(b"<a>%d</a>" % i)
        result.append(Move(f"FLX{i}", "ta", "7328", f"f{i}.xml", str(source),
                           f"2024/06/14/FLX{i}", "2024-06-14T09:30:00+00:00"))
    return archive, result


def test_a_batch_is_journaled_then_moved_with_its_digest(tmp_path):
    archive, batch = moves(tmp_path, 3)
    os.unlink(batch[1].source)  # taken meanwhile by another replica
    journal, stored = archive.move_in(batch)
    assert journal.exists() and [j.path for j in archive.journals()] == [journal]
    assert isinstance(stored[1], FileNotFoundError)
    assert stored[0].size == len(b"<a>0</a>") and len(stored[0].sha256) == 64
    assert archive.path_of("2024/06/14/FLX2").read_bytes() == b"<a>2</a>"
    assert not (tmp_path / "edi" / "ta" / "in" / "f0.xml").exists()
    archive.drop_journal(journal)
    assert list(archive.journals()) == []


def test_across_file_systems_the_file_is_copied_synced_then_removed(tmp_path, monkeypatch):
    archive, [move] = moves(tmp_path, 1)
    real_rename = os.rename

    def rename(src, dst, **dir_fds):
        if str(src) == os.path.basename(move.source):
            raise OSError(errno.EXDEV, "cross-device link")
        return real_rename(src, dst, **dir_fds)

    monkeypatch.setattr(os, "rename", rename)
    _, [stored] = archive.move_in([move])
    assert stored.size == len(b"<a>0</a>")
    assert not Path(move.source).exists()
    assert archive.path_of(move.relative).read_bytes() == b"<a>0</a>"


def test_after_a_crash_the_journal_tells_what_was_archived(tmp_path):
    archive, batch = moves(tmp_path, 2)
    journal, _ = archive.move_in(batch[:1])
    # the crash: f1 was in the journal but never moved; f0 was moved but never recorded
    data = journal.read_text().replace("]", ', {"number": "FLX1", "account": "ta", '
                                       f'"partner": "7328", "name": "f1.xml", "source": '
                                       f'"{batch[1].source}", "relative": "2024/06/14/FLX1", '
                                       '"received_at": "2024-06-14T09:30:00+00:00"}]')
    journal.write_text(data)
    [found] = list(Archive(tmp_path / "archive", "i1", archive._edi).journals())
    assert [m.number for m in found.moves] == ["FLX0", "FLX1"]
    assert archive.settle_move(found.moves[0]).size == len(b"<a>0</a>")
    assert archive.settle_move(found.moves[1]) is None  # still in in/: taken again later
    other = Archive(tmp_path / "archive", "i2", archive._edi)
    assert list(other.journals()) == []  # not its journal, and not old yet
    assert len(list(other.journals(older_than=0, now=time.time() + 1))) == 1


def test_an_upload_is_durable_on_finish_and_gone_on_abort(tmp_path):
    archive = Archive(tmp_path / "archive", "i1", EdiFolders(tmp_path / "edi", 1))
    upload = archive.upload("2024/06/14/FLXA")
    upload.write(b"<a>")
    upload.write(b"</a>")
    stored = upload.finish()
    assert (stored.size, archive.path_of("2024/06/14/FLXA").read_bytes()) == (7, b"<a></a>")
    aborted = archive.upload("2024/06/14/FLXB")
    aborted.write(b"<a>")
    aborted.abort()
    assert sorted(p.name for p in archive.path_of("2024/06/14").iterdir()) == ["FLXA"]
