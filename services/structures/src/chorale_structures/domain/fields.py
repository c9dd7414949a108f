"""Reusable pydantic field types: trimmed text, blank-as-absent optional text.

Written `Annotated[str, Text(200)]` (required) or `Annotated[str | None, Text(200)] = None`
(optional: blank reads as absent), so that a type checker sees the field's plain type.

Single-line texts (names, addresses...) refuse control characters and line breaks: they end
up in CSV exports, e-mail headers and routing snapshots, where a stray newline does harm.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BeforeValidator, GetCoreSchemaHandler, StringConstraints
from pydantic_core import CoreSchema

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("retours à la ligne et caractères de contrôle interdits")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_MULTILINE.search(value):
        raise ValueError("caractères de contrôle interdits")
    return value


def _text(max_length: int, min_length: int, multiline: bool) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_multi_line if multiline else _single_line),
    ]


def required_text(max_length: int, *, multiline: bool = False) -> Any:
    return _text(max_length, 1, multiline)


def optional_text(max_length: int, *, multiline: bool = False) -> Any:
    return Annotated[_text(max_length, 0, multiline) | None, BeforeValidator(blank_to_none)]


@dataclass(frozen=True)
class Text:
    """Field metadata: trimmed text of at most `max_length` characters, single-line unless
    `multiline`; required (at least one character) on `str`, blank-as-absent on `str | None`."""

    max_length: int
    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        optional = isinstance(source, types.UnionType) and type(None) in get_args(source)
        make = optional_text if optional else required_text
        return handler.generate_schema(make(self.max_length, multiline=self.multiline))
