"""Flow numbers (`numeroFluxDepot`): `FLX` + deposit date + `-` + a ULID.

The ULID (48-bit millisecond time + 80 random bits, Crockford base 32) makes numbers unique
across replicas without a shared counter and sortable by deposit time; the date prefix keeps
them readable: `FLX20250114-01JHCX3Z7Q9K2M4N5P6R7S8T9V`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

PREFIX = "FLX"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FLOW_NUMBER = re.compile(r"^FLX\d{8}-[0-9A-HJKMNP-TV-Z]{26}$")


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def flow_number(now: datetime, entropy: bytes) -> str:
    """The number of a flow received at `now` (aware), with 10 bytes of `entropy`."""
    if len(entropy) != 10:
        raise ValueError("a flow number needs exactly 10 bytes of entropy")
    moment = now.astimezone(UTC)
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    ulid = _base32(millis, 10) + _base32(int.from_bytes(entropy, "big"), 16)
    return f"{PREFIX}{moment:%Y%m%d}-{ulid}"


def is_flow_number(text: str) -> bool:
    return FLOW_NUMBER.match(text) is not None
