"""A thin HTTP client for the journey: every call states the status it expects, and a surprise
stops the journey with the service's own error body."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx


class UnexpectedAnswer(Exception):
    def __init__(self, method: str, url: str, status: int, body: str, expected: tuple[int, ...]):
        super().__init__(f"{method} {url}: HTTP {status}, expected {expected}: {body[:800]}")
        self.status = status
        self.body = body


class Api:
    def __init__(self, client: httpx.AsyncClient, base: str, token: str | None = None):
        self._client = client
        self.base = base.rstrip("/")
        self.token = token

    def as_(self, token: str) -> Api:
        return Api(self._client, self.base, token)

    async def call(
        self, method: str, path: str, *, expect: int | tuple[int, ...] = 200, **kwargs: Any
    ) -> Any:
        expected = (expect,) if isinstance(expect, int) else expect
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self._client.request(method, self.base + path, headers=headers,
                                              **kwargs)
        if response.status_code not in expected:
            raise UnexpectedAnswer(method, path, response.status_code, response.text, expected)
        if not response.content:
            return None
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    async def until(
        self, method: str, path: str, *, expect: int = 200, timeout: float = 30, **kwargs: Any
    ) -> Any:
        """Repeat a call until it answers `expect`: what another service learns from events
        (a new GP, a grant, a revocation) reaches this one a moment later."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return await self.call(method, path, expect=expect, **kwargs)
            except UnexpectedAnswer:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)


async def eventually(check: Any, timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not observed within {timeout:.0f}s")
        await asyncio.sleep(interval)
