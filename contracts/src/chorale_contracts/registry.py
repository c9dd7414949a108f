"""Event payload base class, the registry of every event type, and upcasting.

Schema evolution (DESIGN.md §3): an additive change keeps `schema_version`; a breaking change
bumps it and registers an upcaster from the previous version, so consumers always see the
current shape whatever version was on the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from chorale_contracts.topics import Topic

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventPayload(BaseModel):
    """Base of every payload. Unknown fields are refused when producing, ignored when consuming."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[Topic]
    # Upcasters keyed by the version they upgrade *from* (n -> n + 1).
    upcasters: ClassVar[dict[int, Upcaster]] = {}


class UnknownEventType(LookupError):
    pass


class UnsupportedSchemaVersion(ValueError):
    pass


@dataclass
class Registry:
    by_type: dict[str, type[EventPayload]] = field(default_factory=dict)

    def register(self, cls: type[EventPayload]) -> type[EventPayload]:
        existing = self.by_type.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.event_type!r} registered twice")
        self.by_type[cls.event_type] = cls
        return cls

    def payload_class(self, event_type: str) -> type[EventPayload]:
        try:
            return self.by_type[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def for_topic(self, topic: Topic) -> list[type[EventPayload]]:
        return sorted(
            (c for c in self.by_type.values() if c.topic == topic), key=lambda c: c.event_type
        )


REGISTRY = Registry()


def event(cls: type[EventPayload]) -> type[EventPayload]:
    """Class decorator: register a payload class in the global registry."""
    return REGISTRY.register(cls)


def upcast(cls: type[EventPayload], version: int, data: dict[str, Any]) -> dict[str, Any]:
    if version > cls.schema_version:
        raise UnsupportedSchemaVersion(
            f"{cls.event_type} v{version} is newer than this consumer's v{cls.schema_version}"
        )
    while version < cls.schema_version:
        step = cls.upcasters.get(version)
        if step is None:
            raise UnsupportedSchemaVersion(f"no upcaster for {cls.event_type} v{version}")
        data = step(data)
        version += 1
    return data


def decode_payload(event_type: str, schema_version: int, data: dict[str, Any]) -> EventPayload:
    """Turn a wire payload into its current model, tolerating fields this consumer ignores."""
    cls = REGISTRY.payload_class(event_type)
    return cls.model_validate(upcast(cls, schema_version, data), extra="ignore")
