"""Hourly clean-up of what has expired for good (FerretDB has no TTL indexes): verification
links a day after their expiry, refresh-token index entries and families after the family's
end, sign-in decoys untouched for a day. Every replica may run it; deletions are idempotent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from chorale_identity.service_layer.context import IdentityContext
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

INTERVAL_SECONDS = 3600
GRACE = timedelta(days=1)


class Housekeeping:
    def __init__(self, ctx: IdentityContext, interval: float = INTERVAL_SECONDS):
        self._ctx = ctx
        self._interval = interval

    async def once(self) -> dict[str, int]:
        before = self._ctx.now() - GRACE
        removed = {
            "links": await self._ctx.links.forget_expired(before),
            "refresh_tokens": await self._ctx.refresh.forget_expired(before),
            "sign_in_decoys": await self._ctx.decoys.forget_older_than(before),
        }
        if any(removed.values()):
            log.info("housekeeping_done", **removed)
        return removed

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.once()
