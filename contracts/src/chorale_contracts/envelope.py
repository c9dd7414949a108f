"""The event envelope shared by every topic (DESIGN.md §3)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from chorale_contracts.registry import EventPayload


class Envelope(BaseModel):
    """One event as it travels on Kafka. The Kafka key is always `key`.

    Producers build envelopes with unknown fields forbidden; consumers parse with
    `Envelope.parse_incoming`, which ignores fields they do not know yet.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    event_type: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)+$")
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str = Field(min_length=1)
    key: str = Field(min_length=1)
    correlation_id: str = Field(min_length=1)
    causation_id: str | None = None
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def parse_incoming(cls, raw: bytes | str | dict[str, Any] | None) -> Envelope:
        """`raw` as a Kafka record holds it: None (a record without a value) is no envelope."""
        if raw is None:
            raise ValueError("enregistrement sans valeur : pas une enveloppe d'événement")
        if isinstance(raw, dict):
            return cls.model_validate(raw, extra="ignore")
        return cls.model_validate_json(raw, extra="ignore")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def new_envelope(
    payload: EventPayload,
    *,
    key: str,
    producer: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """Wrap a payload; a fresh `event_id` identifies this event for ever, across re-publication."""
    event_id = event_id or uuid.uuid4()
    return Envelope(
        event_id=event_id,
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        key=key,
        correlation_id=correlation_id or str(event_id),
        causation_id=causation_id,
        payload=payload.model_dump(mode="json", by_alias=True),
    )
