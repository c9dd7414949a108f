"""Keeps secrets out of logs: any mapping key that names a secret has its value masked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "********"
SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|totp|otp|api[_-]?key|credential"
    r"|private[_-]?key|mongodb_uri|link",
    re.IGNORECASE,
)
# Values that look like bearer tokens or JWTs, wherever they appear.
SECRET_VALUE = re.compile(r"(Bearer\s+)[\w\-.~+/]+=*|eyJ[\w-]+\.[\w-]+\.[\w-]+")


def redact(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and SECRET_KEY.search(k) else redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(v, depth + 1) for v in value)
    if isinstance(value, str):
        return SECRET_VALUE.sub(lambda m: (m.group(1) or "") + MASK, value)
    return value
