"""The portal's own Prometheus metrics: time spent waiting for the services' APIs, so a page's
own cost (rendering, session) can be told apart from its calls."""

from __future__ import annotations

from prometheus_client import Histogram

API_CALL_SECONDS = Histogram(
    "chorale_portal_api_call_seconds",
    "Duration of the portal's calls to the services' APIs",
    ["service", "upstream"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def record_api_call(upstream: str, seconds: float) -> None:
    API_CALL_SECONDS.labels("portal", upstream).observe(seconds)
