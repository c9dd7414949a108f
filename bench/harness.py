"""Shared pieces of the benchmarks: figures with targets, latency percentiles, peak memory."""

from __future__ import annotations

import os
import resource
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True

    def verdict(self) -> str:
        if self.target is None:
            return ""
        ok = self.value >= self.target if self.higher_is_better else self.value <= self.target
        sign = "≥" if self.higher_is_better else "≤"
        ratio = self.value / self.target if self.target else float("inf")
        return (
            f"target {sign} {self.target:g} {self.unit}: {'met' if ok else 'MISSED'} (×{ratio:.2f})"
        )


def print_figures(figures: list[Figure]) -> None:
    for f in figures:
        print(f"  {f.name:<48} {f.value:>12,.2f} {f.unit:<10} {f.verdict()}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(p * 10) - 1]


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def proc_rss_mb(pid: int) -> float:
    """Current resident memory of another process (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):  # peak resident set
                return int(line.split()[1]) / 1024
    return float("nan")

LOCAL_INFRA = Path(__file__).resolve().parents[1] / "deploy" / "local" / "chorale_infra"


class Context:
    def __init__(self, quick: bool = False):
        self.quick = quick
        self._infra: Any = None
        # Figures of the benchmarks already run, by name: a later one may compare with them.
        self.figures: dict[str, Figure] = {}

    def infra(self) -> Any:
        if self._infra is None:
            from chorale_runtime.testing.infra import obtain

            # Its own instance, started from empty data: figures do not depend on what earlier
            # test runs left in a broker.
            # CHORALE_BENCH_INSTANCE lets several people bench on one machine without sharing
            # (and wiping) each other's broker.
            self._infra = obtain(
                instance=os.environ.get("CHORALE_BENCH_INSTANCE", "bench"), local_infra=LOCAL_INFRA
            )
            print(f"  {self._infra.describe()}")
        return self._infra

    def close(self) -> None:
        if self._infra is not None:
            self._infra.close()
