"""The EDI folders: `<root>/<technicalAccountId>/in/` where partners drop files, `out/` where
the intake writes each flow's CR (`<numeroFluxDepot>.cr.json`).

A file is taken only once complete:
- dot-files and temporary names (`*.tmp`, `*.part`, `*.filepart`, ...) are never taken: a
  partner writes under such a name, then renames;
- a file renamed into `in/` after its last write is taken at once (a rename changes the inode's
  ctime, not its mtime, so ctime > mtime);
- any other file is taken once unmodified for the settle delay (it may still be being written
  in place).

No symbolic link under the root is ever followed. Partners can create links (SFTP allows it):
followed, a link would let one partner read another's invoices, or make the intake write CRs
anywhere. So every folder under the root (the account's, `in/`, `out/`) and every file is
opened relative to its parent's descriptor with `O_NOFOLLOW`, never by path: a link is left
where it is, never read, moved or written through, and it is logged (`edi_link_refused`) and
counted (`chorale_intake_edi_links_refused_total`) once per link seen. A file replaced by a link
between the scan and the move is caught by the same rule: the archive opens it `O_NOFOLLOW`
before moving it (see `Archive.move_in`). Anything but a regular file is ignored too. The root
itself is the operator's choice and may be a link.

Scans are incremental: at most `limit` files are returned per call, whatever the number
waiting. Blocking: run in a thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chorale_intake import metrics
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp")
SAFE_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the scan must not block the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_SEEN_LIMIT = 10_000  # links remembered per account, so that each is reported once


class LinkRefused(OSError):
    """A symbolic link (or something that is not what it should be) where the intake expected
    a folder or a regular file: left where it is."""

    def __init__(self, where: str, name: str):
        super().__init__(errno.ELOOP, f"lien symbolique refusé ({where})", name)
        self.where = where


@dataclass(frozen=True)
class Candidate:
    path: str  # <root>/<account>/in/<entry>: the key of the watcher's skip lists, journals
    name: str  # for display: undecodable bytes replaced

    @property
    def entry(self) -> str:
        """The name in in/, as the file system has it."""
        return os.path.basename(self.path)


def is_temporary(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES)


def is_complete(stat_result: os.stat_result, now_ns: int, settle_ns: int) -> bool:
    return (stat_result.st_ctime_ns > stat_result.st_mtime_ns
            or now_ns - stat_result.st_mtime_ns >= settle_ns)


def display_name(name: str) -> str:
    """File names are bytes on Linux: keep what decodes, mark what does not."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")[:255]


def is_safe_account_id(account: str) -> bool:
    """A technical account id becomes a folder name: no separators, no dot-dot, no hidden."""
    return SAFE_ACCOUNT_ID.match(account) is not None and ".." not in account


def open_folder(name: str, parent_fd: int) -> int:
    """Open the folder `name` of `parent_fd` without following a link (LinkRefused)."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise LinkRefused("folder", name) from None
        raise


def open_regular_file(name: str, parent_fd: int) -> int:
    """Open the regular file `name` of `parent_fd` for reading, never through a link."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkRefused("file", name) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "pas un fichier ordinaire", name)
    return fd


class EdiFolders:
    def __init__(self, root: Path, settle_delay: float):
        self.root = root
        self._settle_ns = int(settle_delay * 1e9)
        self._lock = threading.Lock()
        self._seen: dict[str, set[str]] = {}  # account -> links already reported

    def inbox(self, account: str) -> Path:
        return self.root / account / "in"

    def outbox(self, account: str) -> Path:
        return self.root / account / "out"

    # -- links --------------------------------------------------------------------------------
    def report_link(self, account: str, where: str, name: str) -> None:
        """Log and count a link, once while it stays (`where`: account, in, out, file,
        swapped)."""
        key = f"{where}:{name}"
        with self._lock:
            seen = self._seen.setdefault(account, set())
            if key in seen:
                return
            if len(seen) >= _SEEN_LIMIT:
                seen.clear()
            seen.add(key)
        metrics.link_refused(where)
        log.warning("edi_link_refused", technical_account=account, where=where,
                    fichier=display_name(name))

    def _forget_links(self, account: str, keep: set[str], prefix: str) -> None:
        """Links of kind `prefix` no longer there are reported again if they come back."""
        with self._lock:
            seen = self._seen.get(account)
            if seen:
                seen.difference_update({k for k in seen if k.startswith(prefix) and k not in keep})

    # -- folders ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _root(self) -> Iterator[int]:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def folder(self, account: str, sub: str) -> Iterator[int]:
        """A descriptor of `<root>/<account>/<sub>` opened without following any link under
        the root (LinkRefused, reported; FileNotFoundError if missing)."""
        if not is_safe_account_id(account):
            raise ValueError(f"unsafe technical account id {account!r}")
        with self._root() as root_fd:
            account_fd = self._open(account, root_fd, account, "account")
            try:
                fd = self._open(sub, account_fd, account, sub)
            finally:
                os.close(account_fd)
        try:
            yield fd
        finally:
            os.close(fd)

    def _open(self, name: str, parent_fd: int, account: str, where: str) -> int:
        try:
            fd = open_folder(name, parent_fd)
        except LinkRefused:
            self.report_link(account, where, name)
            raise LinkRefused(where, name) from None
        self._forget_links(account, set(), f"{where}:")
        return fd

    def ensure(self, account: str) -> None:
        """Create the account's in/ and out/ if missing. A link where a folder should be is
        reported and left: that account's folder is then not served."""
        if not is_safe_account_id(account):
            raise ValueError(f"unsafe technical account id {account!r}")
        self.root.mkdir(parents=True, exist_ok=True)  # an account may be seen before start-up
        with self._root() as root_fd:
            with contextlib.suppress(FileExistsError):
                os.mkdir(account, 0o755, dir_fd=root_fd)
            try:
                account_fd = self._open(account, root_fd, account, "account")
            except LinkRefused:
                return
            try:
                for sub in ("in", "out"):
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(sub, 0o755, dir_fd=account_fd)
            finally:
                os.close(account_fd)

    # -- in/ ----------------------------------------------------------------------------------
    def candidates(self, account: str, limit: int, skip: frozenset[str] = frozenset()) -> list[
        Candidate
    ]:
        """Up to `limit` complete files waiting in `account`'s in/ folder."""
        found: list[Candidate] = []
        links: set[str] = set()
        now_ns = time.time_ns()
        prefix = f"{self.inbox(account)}/"
        try:
            with self.folder(account, "in") as in_fd, os.scandir(in_fd) as entries:
                complete_scan = True
                for entry in entries:
                    if is_temporary(entry.name):
                        continue
                    try:
                        if entry.is_symlink():
                            links.add(f"file:{entry.name}")
                            self.report_link(account, "file", entry.name)
                            continue
                        path = prefix + entry.name
                        if path in skip or not entry.is_file(follow_symlinks=False):
                            continue
                        if not is_complete(entry.stat(follow_symlinks=False), now_ns,
                                           self._settle_ns):
                            continue
                    except FileNotFoundError:
                        continue
                    found.append(Candidate(path, display_name(entry.name)))
                    if len(found) >= limit:
                        complete_scan = False
                        break
        except (FileNotFoundError, LinkRefused):
            return []
        if complete_scan:
            self._forget_links(account, links, "file:")
        return found

    def count_waiting(self, account: str) -> int:
        """Files waiting in in/ (complete or not), without holding their names."""
        count = 0
        with contextlib.suppress(FileNotFoundError, LinkRefused), \
                self.folder(account, "in") as in_fd, os.scandir(in_fd) as entries:
            for entry in entries:
                if not is_temporary(entry.name):
                    count += 1
        return count

    # -- out/ ---------------------------------------------------------------------------------
    def write_cr(self, account: str, number: str, data: bytes) -> None:
        """Replace `out/<number>.cr.json` atomically (readers see the old or the new CR),
        through the real out/ folder: never through a link (LinkRefused). Not fsynced: the
        database holds the truth and the CR is rewritten after a crash."""
        try:
            self._write_cr(account, number, data)
        except FileNotFoundError:  # the partner removed out/: recreate it
            self.ensure(account)
            self._write_cr(account, number, data)

    def _write_cr(self, account: str, number: str, data: bytes) -> None:
        tmp, final = f".{number}.cr.json.tmp", f"{number}.cr.json"
        with self.folder(account, "out") as out_fd:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(tmp, flags, 0o644, dir_fd=out_fd)
            except FileExistsError:  # a crash's leftover, or a partner's link: replaced
                os.unlink(tmp, dir_fd=out_fd)
                fd = os.open(tmp, flags, 0o644, dir_fd=out_fd)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            # rename replaces whatever has the final name (a link included) without following
            os.rename(tmp, final, src_dir_fd=out_fd, dst_dir_fd=out_fd)
