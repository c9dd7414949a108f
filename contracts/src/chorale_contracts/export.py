"""Generates the committed contract documents: one JSON Schema per event and an AsyncAPI 3.0
document of every topic. `python -m chorale_contracts.export --check` fails on drift."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chorale_contracts.envelope import Envelope
from chorale_contracts.registry import REGISTRY, EventPayload
from chorale_contracts.topics import COMPACTED, Topic

DEFAULT_OUT = Path(__file__).resolve().parents[2]  # the contracts/ folder in a checkout


def _schema_name(cls: type[EventPayload]) -> str:
    return f"{cls.event_type}.v{cls.schema_version}"


def event_json_schema(cls: type[EventPayload]) -> dict[str, Any]:
    schema = cls.model_json_schema(by_alias=True, mode="serialization")
    schema["$id"] = f"urn:chorale:event:{_schema_name(cls)}"
    schema["title"] = cls.event_type
    schema["x-schema-version"] = cls.schema_version
    schema["x-topic"] = str(cls.topic)
    return schema


def envelope_json_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema(mode="serialization")
    schema["$id"] = "urn:chorale:envelope"
    return schema


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in Topic:
        refs = {}
        for cls in REGISTRY.for_topic(topic):
            name = _schema_name(cls).replace(".", "_")
            messages[name] = {
                "name": cls.event_type,
                "title": cls.event_type,
                "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/Envelope"},
                "payload": {"$ref": f"./schemas/{_schema_name(cls)}.json"},
                "x-schema-version": cls.schema_version,
            }
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        channel_id = str(topic)
        channels[channel_id] = {
            "address": channel_id,
            "description": (sys.modules[REGISTRY.for_topic(topic)[0].__module__].__doc__ or "")
            .strip()
            .replace("\n", " ")
            if refs
            else "",
            "messages": refs,
            "bindings": {
                "kafka": {
                    "bindingVersion": "0.5.0",
                    "topicConfiguration": {
                        "cleanup.policy": ["compact"] if topic in COMPACTED else ["delete"]
                    },
                }
            },
        }
        operations[f"publish_{channel_id.replace('.', '_')}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id.replace('.', '~1')}"},
            "messages": [
                {"$ref": f"#/channels/{channel_id.replace('.', '~1')}/messages/{n}"} for n in refs
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Chorale events",
            "version": "1.0.0",
            "description": "Events exchanged by Chorale's services. Every message is an "
            "Envelope whose `payload` follows the message's payload schema; the Kafka key is "
            "the envelope's `key`. Each topic has a `<topic>.dlq` twin for parked events.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"Envelope": envelope_json_schema()}},
    }


def documents() -> dict[str, dict[str, Any]]:
    """Relative path → document, for every committed contract file."""
    docs: dict[str, dict[str, Any]] = {"asyncapi.json": asyncapi_document()}
    docs["schemas/envelope.json"] = envelope_json_schema()
    for cls in REGISTRY.by_type.values():
        docs[f"schemas/{_schema_name(cls)}.json"] = event_json_schema(cls)
    return docs


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def drift(out: Path) -> list[str]:
    """Paths whose committed content differs from the code (missing, stale or orphaned)."""
    problems = []
    expected = documents()
    for rel, doc in expected.items():
        path = out / rel
        if not path.exists() or path.read_text(encoding="utf-8") != render(doc):
            problems.append(rel)
    for path in sorted((out / "schemas").glob("*.json")):
        rel = f"schemas/{path.name}"
        if rel not in expected:
            problems.append(f"{rel} (no longer produced)")
    return problems


def write(out: Path) -> None:
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    expected = documents()
    for path in (out / "schemas").glob("*.json"):
        if f"schemas/{path.name}" not in expected:
            path.unlink()
    for rel, doc in expected.items():
        (out / rel).write_text(render(doc), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if committed files drift")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.out)
        for p in problems:
            print(f"contract drift: {p} (run `make contracts`)", file=sys.stderr)
        return 1 if problems else 0
    write(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
