"""Run a FastAPI app inside the test's event loop on a free port, or a service as a process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

# Ports handed to tests come from below Linux's ephemeral range (32768-60999 by default): a port
# the kernel picks with bind(0) is an ephemeral one, and any outgoing connection (a Kafka or
# database client) may take it between the pick and the server's own bind — CI saw "Address
# already in use" that way. Below the range only explicit binds compete. The local Kafka and
# database instances use 9092-28017 (deploy/local/infra.py), hence the floor.
_TEST_PORTS = range(29000, 32700)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, outside the ephemeral range, never handed out twice by this
    process."""
    candidates = [port for port in _TEST_PORTS if port not in _handed_out]
    random.shuffle(candidates)
    for port in candidates:
        try:
            _bound_socket(port).close()
        except OSError:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port left for tests in 29000-32699")


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def _listening_socket(port: int | None) -> socket.socket:
    """A socket bound here and handed to uvicorn, so that nothing can take the port between
    choosing it and serving on it."""
    while True:
        chosen = port or free_port()
        try:
            sock = _bound_socket(chosen)
        except OSError:
            if port:
                raise
            continue
        sock.set_inheritable(False)
        return sock


@contextlib.asynccontextmanager
async def serve_in_process(
    app: FastAPI, port: int | None = None, ready_timeout: float = 60
) -> AsyncIterator[str]:
    """Start `app` (lifespan included) and yield its base URL; stop it on exit. A runtime's
    operations listener (/metrics, detailed /ready) is served too, on another free port:
    `app.state.admin_url`."""
    sock = _listening_socket(port)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    # The test process keeps its own signal handling (uvicorn's capture would re-raise them).
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
    base = f"http://127.0.0.1:{port}"
    async with _operations(app):
        task = asyncio.create_task(server.serve(sockets=[sock]))
        async with _started(server, task, ready_timeout):
            _OPERATIONS[base] = getattr(getattr(app, "state", None), "admin_url", "")
            try:
                yield base
            finally:
                _OPERATIONS.pop(base, None)


_OPERATIONS: dict[str, str] = {}


def operations_url(base_url: str) -> str:
    """The operations listener (/metrics, detailed /ready) of an app `serve_in_process` runs
    at `base_url`."""
    return _OPERATIONS[base_url]


@contextlib.asynccontextmanager
async def _operations(app: Any) -> AsyncIterator[None]:
    admin_app = getattr(getattr(app, "state", None), "admin_app", None)
    if admin_app is None:
        yield
        return
    sock = _listening_socket(None)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(admin_app, host="127.0.0.1", port=port,
                                           log_config=None, lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with _started(server, task, 30):
        app.state.admin_url = f"http://127.0.0.1:{port}"
        yield


@contextlib.asynccontextmanager
async def _started(server: uvicorn.Server, task: asyncio.Task, ready_timeout: float
                   ) -> AsyncIterator[None]:
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if task.done():
            task.result()  # re-raise the start-up failure
            raise RuntimeError("server stopped during start-up")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("server did not start in time")
        await asyncio.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def wait_ready(base_url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    last: object = None
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"{base_url}/ready")
                if response.status_code == 200:
                    return response.json()
                last = response.json()
            except httpx.HTTPError as exc:
                last = exc
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{base_url} not ready after {timeout}s: {last}")


class ServiceProcess:
    """A service started as `python -m <module>` with its own environment and log file."""

    def __init__(self, module: str, env: dict[str, str], port: int, log_path: Path):
        self.module = module
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._env = {**os.environ, **env, "CHORALE_HTTP_PORT": str(port)}
        self._env.setdefault("CHORALE_ADMIN_PORT", str(free_port()))
        # /metrics and the detailed /ready (the operations listener)
        self.admin_url = f"http://127.0.0.1:{self._env['CHORALE_ADMIN_PORT']}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module], env=self._env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def stopped_gracefully(self) -> bool:
        """uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status is -15;
        what tells a clean stop from a kill is the runtime's last log line."""
        return (
            self.process is not None
            and self.process.returncode in (0, -signal.SIGTERM)
            and '"service_stopped"' in self.logs()
        )

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
