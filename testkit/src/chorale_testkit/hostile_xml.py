"""Hostile inputs, for the tests of every layer (domain, service, folders).

`BILLION_LAUGHS`: nine levels of entities, each ten times the previous one (10**9 "lol" if it
were ever expanded).
"""

from __future__ import annotations

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>\n"
)
