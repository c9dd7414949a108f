"""The read-through cache of the authz read model, kept coherent by the change feed.

Why a cache: on upstream FerretDB 1.24 (SQLite backend) a read by `_id` scans the whole
collection (its `_id` pushdown writes `_ferretdb_sjson->'$._id'` while the unique index is on
`_ferretdb_sjson->"_id"`, and SQLite only uses an expression index for the identical
expression; `deploy/local` builds it with a fix, other deployments may not have it), so a
decision read from the database grows with the number of users; from memory it costs
microseconds (figures in docs/MEASUREMENTS.md).

Why it stays correct: a change reaches this process's cache either directly (this process's
consumer applied the event and invalidates at once) or through the change feed (another replica
applied it), polled every `poll_interval` seconds; see `changes.py` and `cache.py`. Until the
feed is followed, or while it cannot be read, nothing is served from the cache.

The follower task starts with the first read and stops after `idle_after` seconds without
reads, or when the database client is closed. Every read model on one database of one client
shares one cache (`shared`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from pymongo.errors import InvalidOperation

from chorale_runtime.authz.cache import MISSING, ReadCache
from chorale_runtime.authz.changes import ChangeFollower
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class Loader(Protocol):
    async def load(self, key: str) -> Any: ...

    async def load_many(self, keys: Iterable[str]) -> dict[str, Any]: ...

    def load_all(self, limit: int) -> AsyncIterator[tuple[str, Any]]: ...


class CoherentCache:
    def __init__(
        self,
        db: Any,
        loader: Loader,
        *,
        capacity: int = 200_000,
        ttl: float = 300.0,
        poll_interval: float = 0.1,
        idle_after: float = 300.0,
        refresh_limit: int = 500,
    ):
        self.cache = ReadCache(capacity, ttl)
        self._db = db
        self._loader = loader
        self._poll_interval = poll_interval
        self._idle_after = idle_after
        self._refresh_limit = refresh_limit
        self._task: asyncio.Task[None] | None = None
        self._last_read = time.monotonic()
        self.closed = False
        self.warmed = False

    async def read(self, key: str) -> Any:
        self._last_read = time.monotonic()
        self._ensure_following()
        value = self.cache.get(key)
        if value is not MISSING:
            return value
        started = self.cache.begin_read()
        try:
            value = await self._loader.load(key)
            self.cache.store(key, value, started)
        finally:
            self.cache.end_read()
        return value

    def invalidate(self, keys: Iterable[str]) -> None:
        self.cache.invalidate(keys)

    async def wait_following(self, timeout: float = 10.0, warmed: bool = False) -> None:
        """For tests and benchmarks: start following and wait until the cache is in use (and,
        with `warmed`, loaded)."""
        self._ensure_following()
        deadline = time.monotonic() + timeout
        while not self.cache.enabled or (warmed and not self.warmed):
            if time.monotonic() > deadline:
                raise TimeoutError("authz cache did not start following the change feed")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._disable()

    # -- the follower --------------------------------------------------------------------
    def _ensure_following(self) -> None:
        if self.closed or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.get_running_loop().create_task(
            self._follow(), name="authz-cache-follower"
        )

    def _disable(self) -> None:
        self.cache.enabled = False
        self.warmed = False
        self.cache.clear()

    async def _follow(self) -> None:
        follower = ChangeFollower(self._db)
        last_prune = 0.0
        try:
            await follower.poll()  # the starting point: later polls report what changed
            while time.monotonic() - self._last_read < self._idle_after:
                try:
                    changed = await follower.poll()
                    if not self.warmed:  # at start, and once the feed is readable again
                        self.cache.enabled = True
                        await self._warm()
                    if changed is None:
                        log.info("authz_cache_cleared", reason="changes_missed")
                        self.cache.clear()
                    elif changed:
                        await self._refresh(changed)
                    if time.monotonic() - last_prune > 600:
                        last_prune = time.monotonic()
                        await follower.prune()
                    await asyncio.sleep(self._poll_interval)
                except InvalidOperation:
                    raise
                except Exception as exc:  # database unreachable: serve nothing stale meanwhile
                    log.warning("authz_cache_feed_unreadable", error=str(exc))
                    self._disable()
                    await asyncio.sleep(1)
        except InvalidOperation:  # the client was closed: this cache is finished
            self.closed = True
            _forget(self)
        except Exception as exc:  # could not even start: the next read tries again
            log.warning("authz_cache_not_following", error=str(exc))
        finally:
            self._disable()

    async def _refresh(self, keys: set[str]) -> None:
        started = self.cache.begin_read()
        try:
            # Re-read at once what was cached, so the next decisions on those keys stay fast.
            hot = self.cache.invalidate(keys)
            if not hot or len(hot) > self._refresh_limit:
                return
            for key, value in (await self._loader.load_many(hot)).items():
                self.cache.store(key, value, started + 1)
        finally:
            self.cache.end_read()

    async def _warm(self) -> None:
        """Load up to `capacity` entries in one pass (a scan costs what one `_id` read does on
        FerretDB); later reads of absent keys fall through to the database."""
        started = self.cache.begin_read()
        count = 0
        try:
            async for key, value in self._loader.load_all(self.cache.capacity):
                if self.cache.store(key, value, started):
                    count += 1
        finally:
            self.cache.end_read()
        self.warmed = True
        log.info("authz_cache_warmed", entries=count)


_SHARED: dict[tuple[int, str], CoherentCache] = {}


def shared(db: Any, loader: Loader, **options: Any) -> CoherentCache:
    """The cache of this database for this client, created on first use."""
    key = (id(db.client), db.name)
    found = _SHARED.get(key)
    if found is None or found.closed:
        found = _SHARED[key] = CoherentCache(db, loader, **options)
    return found


def _forget(cache: CoherentCache) -> None:
    for key, value in list(_SHARED.items()):
        if value is cache:
            del _SHARED[key]
