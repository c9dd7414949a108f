"""What follows one SMTP attempt: sent, try again later (exponential back-off), or give up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Next = Literal["SENT", "RETRY", "FAILED"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: float
    backoff_max: float

    def delay(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1`, doubling from `backoff`, capped."""
        return min(self.backoff * (2 ** max(attempt - 1, 0)), self.backoff_max)

    def after(self, outcome: str, attempt: int) -> Next:
        if outcome == "SENT":
            return "SENT"
        if outcome == "PERMANENT" or attempt >= self.max_attempts:
            return "FAILED"
        return "RETRY"
