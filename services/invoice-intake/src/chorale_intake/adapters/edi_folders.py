"""The EDI folders: `<root>/<technicalAccountId>/in/` where partners drop files, `out/` where
the intake writes each flow's CR (`<numeroFluxDepot>.cr.json`).

A file is taken only once complete:
- dot-files and temporary names (`*.tmp`, `*.part`, `*.filepart`, ...) are never taken: a
  partner writes under such a name, then renames;
- a file renamed into `in/` after its last write is taken at once (a rename changes the inode's
  ctime, not its mtime, so ctime > mtime);
- any other file is taken once unmodified for the settle delay (it may still be being written
  in place).
Symbolic links and anything but regular files are ignored. Scans are incremental: at most
`limit` files are returned per call, whatever the number waiting. Blocking: run in a thread.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp")
SAFE_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Candidate:
    path: str
    name: str  # for display: undecodable bytes replaced


def is_temporary(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES)


def is_complete(stat: os.stat_result, now_ns: int, settle_ns: int) -> bool:
    return stat.st_ctime_ns > stat.st_mtime_ns or now_ns - stat.st_mtime_ns >= settle_ns


def display_name(name: str) -> str:
    """File names are bytes on Linux: keep what decodes, mark what does not."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")[:255]


def is_safe_account_id(account: str) -> bool:
    """A technical account id becomes a folder name: no separators, no dot-dot, no hidden."""
    return SAFE_ACCOUNT_ID.match(account) is not None and ".." not in account


class EdiFolders:
    def __init__(self, root: Path, settle_delay: float):
        self.root = root
        self._settle_ns = int(settle_delay * 1e9)

    def inbox(self, account: str) -> Path:
        return self.root / account / "in"

    def outbox(self, account: str) -> Path:
        return self.root / account / "out"

    def ensure(self, account: str) -> None:
        if not is_safe_account_id(account):
            raise ValueError(f"unsafe technical account id {account!r}")
        self.inbox(account).mkdir(parents=True, exist_ok=True)
        self.outbox(account).mkdir(parents=True, exist_ok=True)

    def candidates(self, account: str, limit: int, skip: frozenset[str] = frozenset()) -> list[
        Candidate
    ]:
        """Up to `limit` complete files waiting in `account`'s in/ folder."""
        found: list[Candidate] = []
        now_ns = time.time_ns()
        try:
            with os.scandir(self.inbox(account)) as entries:
                for entry in entries:
                    if is_temporary(entry.name) or entry.path in skip:
                        continue
                    try:
                        if not entry.is_file(follow_symlinks=False):
                            continue
                        if not is_complete(entry.stat(follow_symlinks=False), now_ns,
                                           self._settle_ns):
                            continue
                    except FileNotFoundError:
                        continue
                    found.append(Candidate(entry.path, display_name(entry.name)))
                    if len(found) >= limit:
                        break
        except FileNotFoundError:
            return []
        return found

    def count_waiting(self, account: str) -> int:
        """Files waiting in in/ (complete or not), without holding their names."""
        count = 0
        with contextlib.suppress(FileNotFoundError), os.scandir(self.inbox(account)) as entries:
            for entry in entries:
                if not is_temporary(entry.name):
                    count += 1
        return count

    def write_cr(self, account: str, number: str, data: bytes) -> None:
        """Replace `out/<number>.cr.json` atomically (readers see the old or the new CR). Not
        fsynced: the database holds the truth and the CR is rewritten after a crash."""
        folder = self.outbox(account)
        tmp = f"{folder}/.{number}.cr.json.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError:  # the partner removed out/: recreate it
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, f"{folder}/{number}.cr.json")
