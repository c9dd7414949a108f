"""Processes: telling our processes from others by their command line, signalling them,
reaping them, and reading their logs."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import signal
import subprocess
import time
from pathlib import Path

from .layout import InfraError, Layout

# Children started by this Python process, so that we can reap them (no zombies in pytest).
CHILDREN: dict[int, subprocess.Popen] = {}


_EXITING = "\0exiting"


def _task_state(path: Path) -> str:
    return path.read_text().rsplit(")", 1)[1].split()[0]


def _cmdline(pid: int) -> str | None:
    """Command line of a live process, or None once it is gone (or a zombie).

    _EXITING for a process whose main thread has exited while other threads still run: a JVM
    shutting down looks like that ("[java] <defunct>") for a few seconds, ports still bound.
    """
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            if _task_state(proc / "stat") in ("Z", "X"):
                for task in (proc / "task").iterdir():
                    with contextlib.suppress(OSError, IndexError):
                        if _task_state(task / "stat") not in ("Z", "X"):
                            return _EXITING
                return None
            return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            return None
    try:  # macOS / BSD
        out = subprocess.run(
            ["ps", "-ww", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True
        )
    except OSError:
        return None
    line = out.stdout.strip()
    if out.returncode != 0 or not line or line.startswith("Z"):
        return None
    return line.split(None, 1)[1] if " " in line else ""


def _reap(pid: int) -> None:
    child = CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int, marker: str) -> bool:
    """Is `pid` alive and really our process (its command line contains `marker`)?"""
    child = CHILDREN.get(pid)
    if child is not None:  # started by this Python process: poll() also reaps it
        if child.poll() is None:
            return True
        CHILDREN.pop(pid, None)
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    cmd = _cmdline(pid)
    if cmd is None:
        _reap(pid)
        return False
    return cmd == _EXITING or marker in cmd


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def find_by_marker(marker: str) -> list[int]:
    """Processes whose command line contains marker: catches leftovers whose pid file is lost."""
    pids: list[int] = []
    if Path("/proc").is_dir():
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                cmd = _cmdline(int(entry.name))
                if cmd and marker in cmd:
                    pids.append(int(entry.name))
        return pids
    try:
        out = subprocess.run(
            ["ps", "-axww", "-o", "pid=,stat=,command="], capture_output=True, text=True
        )
    except OSError:
        return pids
    for line in out.stdout.splitlines():
        parts = line.split(None, 2)
        if (
            len(parts) == 3
            and not parts[1].startswith("Z")
            and marker in parts[2]
            and int(parts[0]) != os.getpid()
        ):
            pids.append(int(parts[0]))
    return pids


def kafka_marker(layout: Layout) -> str:
    return f"kafka.Kafka {layout.kafka_properties}"


def ferretdb_marker(layout: Layout) -> str:
    return f"--state-dir={layout.ferretdb_state}"


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:  # started with start_new_session: the group is ours alone
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def terminate(pids_and_markers: list[tuple[str, int, str, float]]) -> list[str]:
    """SIGTERM every process, wait up to its grace period, then SIGKILL. Returns messages."""
    messages: list[str] = []
    pending = [
        (name, pid, marker, grace, time.monotonic() + grace)
        for name, pid, marker, grace in pids_and_markers
    ]
    for _, pid, _, _, _ in pending:
        _signal_group(pid, signal.SIGTERM)
    while pending:
        still: list[tuple[str, int, str, float, float]] = []
        for name, pid, marker, grace, deadline in pending:
            if not alive(pid, marker):
                messages.append(f"{name} stopped (pid {pid})")
            elif time.monotonic() > deadline:
                _signal_group(pid, signal.SIGKILL)
                end = time.monotonic() + 10
                while alive(pid, marker) and time.monotonic() < end:
                    time.sleep(0.1)
                if alive(pid, marker):
                    raise InfraError(f"{name} (pid {pid}) survived SIGKILL")
                messages.append(
                    f"{name} killed: still running {grace:.0f}s after SIGTERM (pid {pid})"
                )
            else:
                still.append((name, pid, marker, grace, deadline))
        pending = still
        if pending:
            time.sleep(0.1)
    return messages


def rotate_log(path: Path, limit: int = 20 * 1024 * 1024) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > limit:
            os.replace(path, path.with_name(path.name + ".1"))


def tail(path: Path, lines: int = 40, since: int = 0) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            start = max(since, size - 256 * 1024)
            fh.seek(start)
            data = fh.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join("    " + line for line in data.splitlines()[-lines:]) or "    (log is empty)"


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
