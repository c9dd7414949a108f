"""Renders the README's configuration table from the services' settings classes, so the table
cannot drift from the code. `make docs` rewrites it; a test fails when it is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import SecretStr

from chorale_cli.services import SERVICES
from chorale_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"
CONVENTIONAL = {"kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS", "mongodb_uri": "MONGODB_URI"}


def _env(name: str) -> str:
    return CONVENTIONAL.get(name, f"CHORALE_{name.upper()}")


def _default(field) -> str:
    value = field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value in ("", None):
        return "—"
    return f"`{value}`"


def _row(name: str, field, where: str) -> str:
    inherited = ServiceSettings.model_fields.get(name)
    doc = field.description or (inherited.description if inherited else "") or ""
    doc = doc.replace("|", "\\|")
    return f"| `{_env(name)}` | {_default(field)} | {where} | {doc} |"


def render() -> str:
    common = ServiceSettings.model_fields
    lines = [
        "Every service reads its settings from environment variables (typed, validated at start:",
        "a service refuses to start on an invalid value, with a one-line reason).",
        "`uv run chorale config --service <name>` prints the effective values, secrets masked.",
        "",
        "| variable | default | service | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in common.items():
        if name == "service_name":
            continue
        lines.append(_row(name, field, "all"))
    for info in SERVICES.values():
        cls = info.settings_class()
        for name, field in cls.model_fields.items():
            if name in common and name not in ("http_port",):
                continue
            lines.append(_row(name, field, info.name))
    return "\n".join(lines)


def updated(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{render()}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    new = updated(text)
    if args.check:
        if new != text:
            print("README configuration table is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
