"""Prometheus metrics of the intake (on /metrics with the runtime's own): flows per status,
rejection codes, stage durations, CRs written, EDI files waiting, flows in progress."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

SERVICE = "invoice-intake"

FLOWS = Counter(
    "chorale_intake_flows_total",
    "Flows entering each status (IN_RECU ... IN_INTEGRE, IN_REJETE, IN_INCIDENTE), by channel",
    ["service", "status", "channel"],
)
REJECTIONS = Counter(
    "chorale_intake_rejections_total",
    "Errors reported in rejected flows, by rule code and level (FLUX, FACTURE)",
    ["service", "code", "level"],
)
STAGE_SECONDS = Histogram(
    "chorale_intake_stage_duration_seconds",
    "Duration of each stage: archive (move + SHA-256), record (receipt insert), analyse (parse "
    "+ syntax + XSD + extraction, per file), rules, duplicates (claims), terminal_record, "
    "publish (events acknowledged by Kafka), terminal_cr, mark_finished; per batch except "
    "analyse",
    ["service", "stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
FLOW_SECONDS = Histogram(
    "chorale_intake_flow_duration_seconds",
    "From receipt to terminal status, per flow",
    ["service", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
EDI_WAITING = Gauge(
    "chorale_intake_edi_files_waiting", "Files waiting in the EDI in/ folders", ["service"]
)
IN_FLIGHT = Gauge(
    "chorale_intake_flows_in_progress", "Flows received and not yet terminal", ["service"]
)
CR_WRITTEN = Counter(
    "chorale_intake_cr_written_total",
    "CR files written in the partners' out/ folders, terminal or not (a non-terminal CR that a "
    "newer status replaced within CHORALE_CR_DELAY is never written)",
    ["service", "terminal"],
)
TECHNICAL_FAILURES = Counter(
    "chorale_intake_technical_failures_total",
    "Technical failures met while processing flows (each is retried), by stage",
    ["service", "stage"],
)


def stage(name: str, seconds: float) -> None:
    STAGE_SECONDS.labels(SERVICE, name).observe(seconds)


@contextmanager
def timed(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        stage(name, time.perf_counter() - started)


def entered(counts: Mapping[tuple[str, str], int]) -> None:
    """Flows entering statuses, counted by (status, channel): one update per label."""
    for (status, channel), count in counts.items():
        FLOWS.labels(SERVICE, status, channel).inc(count)


def rejected(code: str, level: str) -> None:
    REJECTIONS.labels(SERVICE, code, level).inc()


def cr_written(terminal: int, other: int) -> None:
    CR_WRITTEN.labels(SERVICE, "true").inc(terminal)
    CR_WRITTEN.labels(SERVICE, "false").inc(other)


def failed(stage_name: str) -> None:
    TECHNICAL_FAILURES.labels(SERVICE, stage_name).inc()


EDI_LINKS_REFUSED = Counter(
    "chorale_intake_edi_links_refused_total",
    "Symbolic links found under the EDI root, never followed, read or moved (where: account, "
    "in, out for a folder; file for an entry of in/, counted once per link seen; swapped for "
    "a file replaced by a link between the scan and the move)",
    ["service", "where"],
)


def link_refused(where: str) -> None:
    EDI_LINKS_REFUSED.labels(SERVICE, where).inc()
