"""Deterministic identifiers: the same (event, recipient) always gives the same message id, so
a replayed event inserts nothing new (the unique `_id` refuses it)."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5b0d6f1e-7c3a-4f43-9a4e-2f1c0c8a6d21")


def message_id(source_id: str, user_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{source_id}|{user_id}"))


def mail_message_id(message_id_: str, domain: str) -> str:
    """The RFC 5322 Message-ID header: a resend after a crash carries the same one."""
    return f"<{message_id_}@{domain}>"
