"""The raw archive: every deposited file's exact bytes, named by flow number, moved in before
anything else happens to it.

Layout: `<archive>/<YYYY>/<MM>/<DD>/<numeroFluxDepot>`. An EDI file is renamed in (atomic within
one file system; across file systems it is copied, fsynced, renamed, and only then removed from
`in/`). Before a batch of EDI files is moved, a journal naming each move is written and fsynced
in `<archive>/.journal/`; it is deleted once the flows are recorded. After a crash, the journal
tells which archived files still need recording (`Archive.journals`).

Every method is blocking: the service calls them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

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


class Archive:
    def __init__(self, root: Path, instance: str):
        self.root = root
        self.instance = instance
        self.journal_dir = root / ".journal"

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
        error instead (FileNotFoundError: it vanished, e.g. another replica took it). Returns
        the journal to drop once the flows are recorded."""
        journal = self.journal_dir / f"{self.instance}-{uuid.uuid4().hex}.json"
        payload = {"instance": self.instance, "moves": [asdict(m) for m in moves]}
        _write_durably(journal, json.dumps(payload, ensure_ascii=False).encode())
        results: list[Stored | OSError] = []
        touched: set[Path] = set()  # folders made or changed, each created and fsynced once
        for move in moves:
            target = self.path_of(move.relative)
            if target.parent not in touched:
                target.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._move(Path(move.source), target)
            except OSError as exc:
                results.append(exc)
                continue
            touched.update((target.parent, Path(move.source).parent))
            results.append(self.digest(move.relative))
        for folder in touched:  # make the renames themselves durable
            _fsync_dir(folder)
        return journal, results

    @staticmethod
    def _move(source: Path, target: Path) -> None:
        try:
            os.rename(source, target)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        partial = target.with_name(f".{target.name}.part")
        with open(source, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        os.rename(partial, target)
        _fsync_dir(target.parent)
        os.unlink(source)

    def digest(self, relative: str) -> Stored:
        sha, size = hashlib.sha256(), 0
        fd = os.open(self.path_of(relative), os.O_RDONLY)
        try:
            while chunk := os.read(fd, _CHUNK):
                sha.update(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        return Stored(relative, size, sha.hexdigest())

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
        if not target.exists():
            return None
        source = Path(move.source)
        if source.exists() and not os.path.samefile(source, target):
            source.unlink()  # copied across file systems, not yet removed from in/
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
