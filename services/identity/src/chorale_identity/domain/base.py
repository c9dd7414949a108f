"""Shared building blocks: the pydantic base model and the transition result."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class DomainModel(BaseModel):
    """Immutable model; JSON names are camelCase like the Chorus Pro APIs (``codeService``).

    Python code uses snake_case names; ``model_dump()`` and ``model_dump_json()`` produce the
    camelCase aliases. Both spellings are accepted on input.
    """

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )


@dataclass(frozen=True)
class Transition(Generic[T]):
    """The new state of an aggregate and the event type to publish (``None``: none to publish).

    ``details``: facts the event payload needs that the state does not say by itself (named
    as in the contract payload, e.g. ``direct``, ``previousUserId``).

    The service layer stores ``state`` and, in the same document write, appends an outbox entry
    for ``event`` (DESIGN.md §3).
    """

    state: T
    event: str | None
    details: dict[str, object] = field(default_factory=dict)


def new_id() -> str:
    return str(uuid.uuid4())
