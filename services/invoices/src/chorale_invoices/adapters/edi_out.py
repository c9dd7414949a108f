"""Writes lifecycle messages into a partner's EDI folder: `<edi root>/<technical account>/out/`.

Each file is written under a temporary name, fsynced, renamed into place and the folder
fsynced: a partner never sees half a file. Every folder is opened relative to the previous one
with O_NOFOLLOW | O_DIRECTORY: a symbolic link planted in the tree (by a partner with access
to its folder) cannot send the file elsewhere. Blocking: called in a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")


class UnsafeFolder(OSError):
    pass


def _open_dir(name: str, parent_fd: int | None, create: bool) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            raise
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o750, dir_fd=parent_fd)
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:  # ELOOP / ENOTDIR: a link or a file where a folder should be
        raise UnsafeFolder(f"{name}: {exc.strerror}") from exc


class EdiOut:
    def __init__(self, root: Path):
        self.root = root

    def write(self, account: str, name: str, content: bytes) -> Path:
        if not _ACCOUNT.match(account) or not _NAME.match(name):
            raise ValueError(f"unsafe account or file name: {account!r} {name!r}")
        root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fds = [root_fd]
        try:
            fds.append(_open_dir(account, root_fd, create=True))
            out_fd = _open_dir("out", fds[-1], create=True)
            fds.append(out_fd)
            temporary = f".{name}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o640, dir_fd=out_fd)
            try:
                view = memoryview(content)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, name, src_dir_fd=out_fd, dst_dir_fd=out_fd)
            os.fsync(out_fd)
        finally:
            for fd in reversed(fds):
                os.close(fd)
        return self.root / account / "out" / name
