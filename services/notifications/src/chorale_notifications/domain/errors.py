"""Errors of the notifications service: stable code, French message, HTTP status."""

from __future__ import annotations

from typing import Any


class NotificationError(Exception):
    status = 400

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}
        if status is not None:
            self.status = status


def message_not_found(message_id: str) -> NotificationError:
    return NotificationError("MESSAGE_NOT_FOUND", "Message introuvable.",
                             {"id": message_id}, 404)


def delivery_not_found(delivery_id: str) -> NotificationError:
    return NotificationError("DELIVERY_NOT_FOUND", "Envoi introuvable.", {"id": delivery_id}, 404)


def delivery_not_retryable(delivery_id: str, statut: str) -> NotificationError:
    return NotificationError(
        "DELIVERY_NOT_RETRYABLE",
        "Seul un envoi en échec (FAILED) peut être relancé.",
        {"id": delivery_id, "statut": statut}, 409,
    )


def category_unknown(category: str) -> NotificationError:
    return NotificationError("CATEGORY_UNKNOWN", "Catégorie de notification inconnue.",
                             {"categorie": category})


def preference_mandatory(category: str) -> NotificationError:
    return NotificationError(
        "PREFERENCE_NOT_MODIFIABLE",
        "Les courriels de cette catégorie ne peuvent pas être désactivés.",
        {"categorie": category},
    )


def invalid_range(message: str) -> NotificationError:
    return NotificationError("RANGE_INVALID", message)
