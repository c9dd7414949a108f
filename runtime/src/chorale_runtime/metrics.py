"""Prometheus metrics every service exposes on /metrics. Labels carry the service name, so
several services in one test process never clash."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "render"]

HTTP_REQUESTS = Counter(
    "chorale_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "chorale_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_CONSUMED = Counter(
    "chorale_events_consumed_total",
    "Events handled by consumers, by outcome (processed, duplicate, dead_lettered)",
    ["service", "topic", "event_type", "outcome"],
)
EVENTS_FAILED = Counter(
    "chorale_events_failed_total", "Failed attempts at handling an event", ["service", "topic"]
)
EVENTS_PUBLISHED = Counter(
    "chorale_events_published_total", "Events relayed from outboxes to Kafka", ["service", "topic"]
)
DLQ_PUBLISHED = Counter(
    "chorale_dlq_events_total", "Events parked in a dead-letter topic", ["service", "topic"]
)
CONSUMER_LAG = Gauge(
    "chorale_consumer_lag", "Messages not yet consumed", ["service", "group", "topic"]
)
OUTBOX_BACKLOG = Gauge(
    "chorale_outbox_backlog", "Events written but not yet relayed", ["service", "collection"]
)
DLQ_SIZE = Gauge("chorale_dlq_size", "Messages in a dead-letter topic", ["service", "topic"])


def render() -> bytes:
    return generate_latest()
