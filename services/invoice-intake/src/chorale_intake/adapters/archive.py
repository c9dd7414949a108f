"""The raw archive: every deposited file's exact bytes, named by flow number, moved in before
anything else happens to it.

Layout: `<archive>/<YYYY>/<MM>/<DD>/<numeroFluxDepot>`. An EDI file is renamed in (atomic within
one file system; across file systems it is copied, fsynced, renamed, and only then removed from
`in/`). It is first opened relative to the real `in/` folder with `O_NOFOLLOW` (see
`edi_folders`): a file a partner replaced by a symbolic link after the scan is never read nor
moved, and what was renamed is checked to be the very file opened, then digested through that
descriptor, never by path. Before a batch of EDI files is moved, a journal naming each move is
written and fsynced in `<archive>/.journal/`; it is deleted once the flows are recorded. After a
crash, the journal tells which archived files still need recording (`Archive.journals`).

Every method is blocking: the service calls them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from chorale_intake.adapters.edi_folders import EdiFolders, LinkRefused, open_regular_file

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Move:
    """One EDI file to archive under `number`."""

    number: str
    account: str
    partner: str  # the structure the technical account deposits for
    name: str  # the original file name, as shown in the CR
    source: str  # absolute path in in/
    relative: str  # where it goes, relative to the archive
    received_at: str  # ISO, UTC


@dataclass(frozen=True)
class Stored:
    """An archived file: where, how big, and its SHA-256."""

    relative: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Journal:
    path: Path
    instance: str
    moves: tuple[Move, ...]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _digest_fd(fd: int, relative: str) -> Stored:
    sha, size = hashlib.sha256(), 0
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, _CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return Stored(relative, size, sha.hexdigest())


class Archive:
    def __init__(self, root: Path, instance: str, edi: EdiFolders):
        self.root = root
        self.instance = instance
        self.journal_dir = root / ".journal"
        self._edi = edi

    def prepare(self) -> None:
        self.journal_dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def relative_for(number: str, received_at: datetime) -> str:
        return f"{received_at:%Y/%m/%d}/{number}"

    def path_of(self, relative: str) -> Path:
        return self.root / relative

    # -- EDI: journal, move, digest -----------------------------------------------------------
    def move_in(self, moves: list[Move]) -> tuple[Path, list[Stored | OSError]]:
        """Journal the batch, then move each file in. Where a file could not be moved, the
        error instead (FileNotFoundError: it vanished, e.g. another replica took it;
        LinkRefused: a link, left where it is). Returns the journal to drop once the flows are
        recorded."""
        journal = self.journal_dir / f"{self.instance}-{uuid.uuid4().hex}.json"
        payload = {"instance": self.instance, "moves": [asdict(m) for m in moves]}
        _write_durably(journal, json.dumps(payload, ensure_ascii=False).encode())
        results: list[Stored | OSError] = []
        touched: set[Path] = set()  # folders made or changed, each created and fsynced once
        inboxes: dict[str, int] = {}  # the real in/ of each account, opened once per batch
        with contextlib.ExitStack() as opened:
            for move in moves:
                target = self.path_of(move.relative)
                if target.parent not in touched:
                    target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    if move.account not in inboxes:
                        inboxes[move.account] = opened.enter_context(
                            self._edi.folder(move.account, "in"))
                    results.append(self._move(move, inboxes[move.account], target))
                except OSError as exc:
                    results.append(exc)
                    continue
                touched.add(target.parent)
            for folder in touched:  # make the renames themselves durable
                _fsync_dir(folder)
            for in_fd in inboxes.values():
                os.fsync(in_fd)
        return journal, results

    def _move(self, move: Move, in_fd: int, target: Path) -> Stored:
        """Move one file of in/ into the archive, never through a link (LinkRefused)."""
        name = os.path.basename(move.source)
        try:
            fd = open_regular_file(name, in_fd)
        except LinkRefused:
            self._edi.report_link(move.account, "file", name)
            raise
        try:
            opened = os.fstat(fd)
            try:
                os.rename(name, target, src_dir_fd=in_fd)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                self._copy_across(fd, target)
                with contextlib.suppress(FileNotFoundError):
                    if _same_file(os.stat(name, dir_fd=in_fd, follow_symlinks=False), opened):
                        os.unlink(name, dir_fd=in_fd)
                return _digest_fd(fd, move.relative)
            if not _same_file(os.stat(target, follow_symlinks=False), opened):
                self._put_back(move, in_fd, target)
            return _digest_fd(fd, move.relative)
        finally:
            os.close(fd)

    def _put_back(self, move: Move, in_fd: int, target: Path) -> None:
        """The name was swapped (for a link?) between the open and the rename: what was moved
        is not the file opened. Give it back to in/ unread (or drop it from the archive if
        in/ has a new entry of that name meanwhile) and leave this file for the next scan."""
        name = os.path.basename(move.source)
        try:
            os.stat(name, dir_fd=in_fd, follow_symlinks=False)
        except FileNotFoundError:
            os.rename(target, name, dst_dir_fd=in_fd)
        else:
            target.unlink()
        self._edi.report_link(move.account, "swapped", name)
        raise LinkRefused("swapped", name)

    @staticmethod
    def _copy_across(fd: int, target: Path) -> None:
        partial = target.with_name(f".{target.name}.part")
        with open(partial, "wb") as dst:
            os.lseek(fd, 0, os.SEEK_SET)
            while chunk := os.read(fd, _CHUNK):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.rename(partial, target)
        _fsync_dir(target.parent)

    def digest(self, relative: str) -> Stored:
        fd = os.open(self.path_of(relative), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            return _digest_fd(fd, relative)
        finally:
            os.close(fd)

    def drop_journal(self, journal: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            journal.unlink()

    def journals(self, *, older_than: float | None = None, now: float = 0.0) -> Iterator[Journal]:
        """This instance's journals (a crash left them), plus any older than `older_than`
        seconds (another replica's, left behind)."""
        if not self.journal_dir.exists():
            return
        for path in sorted(self.journal_dir.glob("*.json")):
            try:
                data = json.loads(path.read_bytes())
                mine = data.get("instance") == self.instance
                old = older_than is not None and now - path.stat().st_mtime > older_than
            except (OSError, ValueError):
                continue
            if mine or old:
                moves = tuple(Move(**m) for m in data.get("moves", ()))
                yield Journal(path, data.get("instance", "?"), moves)

    def settle_move(self, move: Move) -> Stored | None:
        """After a crash: the archived file of `move` if it got there (finishing an interrupted
        cross-file-system move), None if it is still (only) in in/."""
        target = self.path_of(move.relative)
        with contextlib.suppress(FileNotFoundError):
            target.with_name(f".{target.name}.part").unlink()
        try:
            archived = os.stat(target, follow_symlinks=False)
        except FileNotFoundError:
            return None
        name = os.path.basename(move.source)
        with contextlib.suppress(FileNotFoundError, LinkRefused), \
                self._edi.folder(move.account, "in") as in_fd:
            # copied across file systems, not yet removed from in/ (a link is left alone)
            left = os.stat(name, dir_fd=in_fd, follow_symlinks=False)
            if stat.S_ISREG(left.st_mode) and not _same_file(left, archived):
                os.unlink(name, dir_fd=in_fd)
        return self.digest(move.relative)

    def upload(self, relative: str) -> Upload:
        return Upload(self.path_of(relative), relative)


class Upload:
    """An HTTP deposit streamed into the archive: hashed as it is written, fsynced and renamed
    into place by `finish`, so the bytes are durable before the 202 answer."""

    def __init__(self, target: Path, relative: str):
        target.parent.mkdir(parents=True, exist_ok=True)
        self._target = target
        self._relative = relative
        self._partial = target.with_name(f".{target.name}.part")
        self._handle = open(self._partial, "wb")
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self._sha.update(chunk)
        self.size += len(chunk)

    def finish(self) -> Stored:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.rename(self._partial, self._target)
        _fsync_dir(self._target.parent)
        return Stored(self._relative, self.size, self._sha.hexdigest())

    def abort(self) -> None:
        """Nothing was recorded: keep no bytes (partial or finished)."""
        with contextlib.suppress(Exception):
            self._handle.close()
        for path in (self._partial, self._target):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
