"""The in-process cache in front of the authz read model: bounded (LRU), with a time-to-live as
a backstop, and safe against the one race a cache of a changing database has.

The race: a read of the database starts, the document changes and the change is announced
(invalidation), then the read completes with the old state and would be cached for good. Every
invalidation therefore bumps a tick and remembers it per key; a read records the tick it started
at and is only cached if its key was not invalidated (nor the whole cache cleared) since.
Because a change is always written to the database *before* it is announced, a read that
started after the invalidation sees the new state.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

MISSING = object()


class ReadCache:
    def __init__(
        self,
        capacity: int = 200_000,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.capacity = capacity
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._tick = 0
        self._touched: dict[str, int] = {}
        self._cleared_at = 0
        self._reads_in_flight = 0
        # Off until the change feed is followed: nothing is cached that no one would invalidate.
        self.enabled = False
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Any:
        """The cached value, or MISSING."""
        if not self.enabled:
            return MISSING
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] > self.ttl:
            self.misses += 1
            return MISSING
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def begin_read(self) -> int:
        """Call before reading the database; pass the result to `store`."""
        self._reads_in_flight += 1
        return self._tick

    def end_read(self) -> None:
        self._reads_in_flight -= 1
        if self._reads_in_flight == 0:
            self._touched.clear()  # no read can be compared with them any more

    def store(self, key: str, value: Any, started_at: int) -> bool:
        """Cache what a read begun at tick `started_at` found, unless it may be stale."""
        if not self.enabled or self._cleared_at > started_at:
            return False
        if self._touched.get(key, 0) > started_at:
            return False
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return True

    def invalidate(self, keys: Iterable[str]) -> set[str]:
        """Drop `keys`; returns those that were cached."""
        self._tick += 1
        dropped = set()
        for key in keys:
            if self._entries.pop(key, None) is not None:
                dropped.add(key)
            if self._reads_in_flight:
                self._touched[key] = self._tick
        return dropped

    def clear(self) -> None:
        self._tick += 1
        self._cleared_at = self._tick
        self._entries.clear()
        self._touched.clear()
