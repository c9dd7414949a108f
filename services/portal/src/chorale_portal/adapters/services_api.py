"""The services' public HTTP APIs as the portal calls them: one pooled httpx client, the
person's access token on each call, and two outcomes besides success — the service's own
refusal (`ApiProblem`: code, French message, details) or the service being unreachable
(`ServiceUnavailable`, shown as the 503 page)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx

from chorale_portal import metrics


@dataclass
class ApiProblem(Exception):
    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class ServiceUnavailable(Exception):
    def __init__(self, service: str, reason: str):
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class NotSignedIn(Exception):
    """The service no longer accepts the session's token (revoked, account deactivated)."""


# The browser's address, passed on to the services as `X-Forwarded-For`: identity limits
# sign-ins, registrations, mails and re-authentications per client address, and every
# person reaches it through the portal's one address.
BROWSER_ADDRESS: ContextVar[str | None] = ContextVar("portal_browser_address", default=None)

# When this request's calls to the services started and ended (perf_counter seconds).
API_WAIT: ContextVar[list[tuple[float, float]] | None] = ContextVar("portal_api_wait",
                                                                   default=None)


def _waited(upstream: str, started: float) -> None:
    ended = time.perf_counter()
    metrics.record_api_call(upstream, ended - started)
    waits = API_WAIT.get()
    if waits is not None:
        waits.append((started, ended))


def time_waiting(calls: list[tuple[float, float]]) -> float:
    """How long at least one call was in flight: calls made together count once."""
    total, reached = 0.0, float("-inf")
    for start, end in sorted(calls):
        if end > reached:
            total += end - max(start, reached)
            reached = end
    return total


_UNAUTHENTICATED = {"UNAUTHENTICATED", "TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_REVOKED"}


def problem_of(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    details = dict(body["details"]) if isinstance(body.get("details"), dict) else {}
    if "retryAfter" not in details and response.headers.get("retry-after", "").isdigit():
        details["retryAfter"] = int(response.headers["retry-after"])
    return ApiProblem(
        response.status_code,
        str(body.get("code") or f"HTTP_{response.status_code}"),
        str(body.get("message") or "Le service a refusé la demande."),
        details,
    )


def _busy(response: httpx.Response) -> bool:
    """Identity's `503 SERVICE_BUSY` (every password-hashing slot taken): a wait to tell the
    person on the form, like a rate limit, not the « service unavailable » page."""
    if response.status_code != 503 or "retry-after" not in response.headers:
        return False
    return problem_of(response).code == "SERVICE_BUSY"


class ServicesApi:
    def __init__(self, urls: dict[str, str], timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._urls = {name: url.rstrip("/") for name, url in urls.items()}
        self._client = httpx.AsyncClient(
            timeout=timeout, transport=transport,
            # Idle connections are dropped well before the services' own keep-alive timeout
            # (uvicorn: 5 s): at equal timeouts a request sent on a connection the service is
            # closing fails with RemoteProtocolError (« service indisponible » for nothing).
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50,
                                keepalive_expiry=2.0),
        )

    async def close(self) -> None:
        await self._client.aclose()

    def _request(self, service: str, method: str, path: str, token: str | None,
                 **kwargs: Any) -> httpx.Request:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        browser = BROWSER_ADDRESS.get()
        if browser:
            headers["X-Forwarded-For"] = browser
        return self._client.build_request(method, self._urls[service] + path, headers=headers,
                                          **kwargs)

    async def call(self, service: str, method: str, path: str, *, token: str | None = None,
                   expect_auth: bool = True, **kwargs: Any) -> Any:
        """The decoded JSON answer (None when empty); raises ApiProblem for a 4xx,
        ServiceUnavailable for a connection failure or a 5xx, NotSignedIn for a refused token
        (when `expect_auth`: calls made with the session's token)."""
        request = self._request(service, method, path, token, **kwargs)
        started = time.perf_counter()
        try:
            response = await self._client.send(request)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(service, type(exc).__name__) from exc
        finally:
            _waited(service, started)
        if response.status_code >= 500 and not _busy(response):
            raise ServiceUnavailable(service, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            problem = problem_of(response)
            if token and expect_auth and response.status_code == 401 \
                    and problem.code in _UNAUTHENTICATED:
                raise NotSignedIn(problem.code)
            raise problem
        if not response.content:
            return None
        return response.json()

    @asynccontextmanager
    async def stream(self, service: str, path: str, *, token: str) -> AsyncIterator[
            httpx.Response]:
        """A GET whose body is relayed as it arrives (attachments), with the same outcomes."""
        request = self._request(service, "GET", path, token)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(service, type(exc).__name__) from exc
        try:
            if response.status_code >= 500:
                raise ServiceUnavailable(service, f"HTTP {response.status_code}")
            if response.status_code >= 400:
                await response.aread()
                problem = problem_of(response)
                if response.status_code == 401 and problem.code in _UNAUTHENTICATED:
                    raise NotSignedIn(problem.code)
                raise problem
            yield response
        finally:
            await response.aclose()
