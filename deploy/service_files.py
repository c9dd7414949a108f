"""Writes the deployment files that list every service from the registry
(`chorale_cli.services`): Prometheus' scrape targets and docker-compose.yml's service blocks
and service URLs. `make docs` rewrites them; a test fails when they are stale.

In docker-compose.yml, between the `services:start` / `services:end` markers, each service's
block is generated (its name, the shared `*service` settings, the image's build arguments and
its published port); the lines written by hand after its `build:` (environment, volumes,
depends_on, networks, with their comments) are kept as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from chorale_cli.services import KEY_ISSUER, SERVICES, ServiceInfo, jwks_url

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
COMPOSE = ROOT / "docker-compose.yml"
CONTAINER_PORT = 8000  # CHORALE_HTTP_PORT inside every image
OPERATIONS_PORT = 8100  # CHORALE_ADMIN_PORT inside every image

URLS_START, URLS_END = "    # urls:start", "    # urls:end"
SERVICES_START, SERVICES_END = "  # services:start", "  # services:end"
_BLOCK = re.compile(r"^  ([a-z][a-z0-9-]*):\s*$")


def render_prometheus() -> str:
    targets = "".join(
        f"          - {s.name}:{OPERATIONS_PORT}\n" for s in SERVICES.values() if s.operations
    )
    return (
        "# Generated from chorale_cli/services.py by `make docs`.\n"
        "global:\n"
        "  scrape_interval: 10s\n"
        "scrape_configs:\n"
        "  - job_name: chorale\n"
        "    # each service's operations listener (CHORALE_ADMIN_PORT), not its public API\n"
        "    metrics_path: /metrics\n"
        "    static_configs:\n"
        "      - targets:\n"
        f"{targets}"
    )


def _between(text: str, start: str, end: str) -> tuple[str, list[str], str]:
    head, found, rest = text.partition(start + "\n")
    middle, found_end, tail = rest.partition(end + "\n")
    if not (found and found_end):
        raise SystemExit(f"{COMPOSE.name}: markers {start.strip()!r} / {end.strip()!r} missing")
    return head + start + "\n", middle.splitlines(), end + "\n" + tail


def _url_lines() -> list[str]:
    base = {s.name: f"http://{s.name}:{CONTAINER_PORT}" for s in SERVICES.values()}
    lines = [f"    CHORALE_JWKS_URL: {jwks_url(base[KEY_ISSUER])}"]
    lines += [f"    {s.url_setting}: {base[s.name]}" for s in SERVICES.values()]
    return lines


def _written_by_hand(lines: list[str]) -> dict[str, list[str]]:
    """Per service, the lines of its block that are not generated."""
    kept: dict[str, list[str]] = {}
    name: str | None = None
    in_build = False
    for line in lines:
        block = _BLOCK.match(line)
        if block:
            name, in_build = block.group(1), False
            kept[name] = []
            continue
        if name is None or not line.strip():
            continue
        if in_build and line.startswith("      "):
            continue
        in_build = line.startswith("    build:")
        if in_build or line.startswith(("    <<: *service", "    ports:")):
            continue
        kept[name].append(line)
    return kept


def _service_block(service: ServiceInfo, by_hand: list[str]) -> list[str]:
    return [
        f"  {service.name}:",
        "    <<: *service",
        "    build:",
        "      <<: *build",
        f"      args: {{ SERVICE_PACKAGE: {service.package}, SERVICE_MODULE: {service.module} }}",
        *by_hand,
        f'    ports: ["{service.port}:{CONTAINER_PORT}"]',
        "",
    ]


def updated_compose(text: str) -> str:
    head, _, tail = _between(text, URLS_START, URLS_END)
    text = head + "\n".join(_url_lines()) + "\n" + tail
    head, current, tail = _between(text, SERVICES_START, SERVICES_END)
    by_hand = _written_by_hand(current)
    blocks = [
        line
        for service in SERVICES.values()
        for line in _service_block(service, by_hand.get(service.name, []))
    ]
    return head + "\n".join(blocks) + "\n" + tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args()
    stale = []
    for path, new in (
        (PROMETHEUS, render_prometheus()),
        (COMPOSE, updated_compose(COMPOSE.read_text(encoding="utf-8"))),
    ):
        if path.read_text(encoding="utf-8") != new:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print(f"stale: {', '.join(map(str, stale))}: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
