"""Time for the identity domain: every rule takes ``now`` explicitly (or a ``Clock``).

All datetimes are timezone-aware UTC. A naive datetime is a bug (it silently means "local
time" in half the standard library), so ``require_utc`` refuses it instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FrozenClock:
    """A clock that only moves when told to (tests, benchmarks, replays)."""

    current: datetime

    def __post_init__(self) -> None:
        self.current = require_utc(self.current)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current = self.current + delta
        return self.current


def require_utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; reject naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (UTC)")
    return value.astimezone(UTC)
