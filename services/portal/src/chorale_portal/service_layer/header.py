"""What every page's header needs to know about the signed-in person beyond their name: their
rights (which menu entries and buttons to show) and the unread-messages badge.

Both come from the services (habilitations' « Mes habilitations », notifications' unread
count) with the person's token. Asking them at every page would double the calls a page makes,
so a session's answer is reused for `ttl` seconds, in this process (a cache, nothing at rest):
a change of habilitations shows in the menu within that time, and marking a message read
forgets it at once. The services still decide every access themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chorale_portal.adapters.services_api import ApiProblem, ServiceUnavailable
from chorale_portal.domain.rights import Rights
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

MAX_SESSIONS = 10_000
FAILURE_TTL_SECONDS = 5.0

Call = Callable[[str, str, str], Awaitable[Any]]


@dataclass(frozen=True)
class Header:
    rights: Rights | None  # None: the habilitations service did not answer
    unread: int | None  # None: the notifications service did not answer


class HeaderCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Header]] = {}

    async def get(self, session_id: str, roles: list[str] | None, call: Call) -> Header:
        now = self._clock()
        found = self._entries.get(session_id)
        if found is not None and found[0] > now:
            return found[1]
        header = await _load(roles, call)
        if len(self._entries) >= MAX_SESSIONS:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_SESSIONS:
                self._entries.clear()
        complete = header.rights is not None and header.unread is not None
        # A service that does not answer is asked again soon, not at every page: a page of
        # part 1 must not wait for its timeout each time.
        ttl = self._ttl if complete else min(self._ttl, FAILURE_TTL_SECONDS)
        if ttl > 0:
            self._entries[session_id] = (now + ttl, header)
        return header

    def forget(self, session_id: str) -> None:
        self._entries.pop(session_id, None)


async def _load(roles: list[str] | None, call: Call) -> Header:
    grants, unread = await asyncio.gather(
        _answer(call("habilitations", "GET", "/v1/me/habilitations")),
        _answer(call("notifications", "GET", "/v1/me/messages/unread-count")),
    )
    rights = Rights.of(grants.get("habilitations") or [], roles) if grants is not None else None
    count = unread.get("nonLus") if unread is not None else None
    return Header(rights, count if isinstance(count, int) else None)


async def _answer(pending: Awaitable[Any]) -> dict[str, Any] | None:
    """The answer, or None when the service is down or refuses (the header then shows less;
    a page that needs these rights says the service is unavailable)."""
    try:
        answer = await pending
    except (ServiceUnavailable, ApiProblem) as exc:
        log.warning("header_unavailable", reason=str(exc))
        return None
    return answer if isinstance(answer, dict) else {}
