"""Errors of the notifications service: stable code, French message, HTTP status."""

from __future__ import annotations

from chorale_runtime.errors import VALIDATION_STATUS
from chorale_runtime.errors import ApiError as NotificationError  # code, message, status, details


def message_not_found(message_id: str) -> NotificationError:
    return NotificationError("MESSAGE_NOT_FOUND", "Message introuvable.", 404, {"id": message_id})


def delivery_not_found(delivery_id: str) -> NotificationError:
    return NotificationError("DELIVERY_NOT_FOUND", "Envoi introuvable.", 404, {"id": delivery_id})


def delivery_not_retryable(delivery_id: str, statut: str) -> NotificationError:
    return NotificationError(
        "DELIVERY_NOT_RETRYABLE",
        "Seul un envoi en échec (FAILED) peut être relancé.", 409,
        {"id": delivery_id, "statut": statut},
    )


def category_unknown(category: str) -> NotificationError:
    return NotificationError("CATEGORY_UNKNOWN", "Catégorie de notification inconnue.",
                             VALIDATION_STATUS, {"categorie": category})


def preference_mandatory(category: str) -> NotificationError:
    return NotificationError(
        "PREFERENCE_NOT_MODIFIABLE",
        "Les courriels de cette catégorie ne peuvent pas être désactivés.", VALIDATION_STATUS,
        {"categorie": category},
    )


def frequency_not_modifiable(category: str) -> NotificationError:
    return NotificationError(
        "FREQUENCY_NOT_MODIFIABLE",
        "Les notifications de cette catégorie sont envoyées dès qu'elles surviennent.",
        VALIDATION_STATUS, {"categorie": category},
    )


def frequency_unknown(value: str) -> NotificationError:
    return NotificationError(
        "FREQUENCY_UNKNOWN", "Fréquence inconnue : IMMEDIAT, GROUPE ou QUOTIDIEN.",
        VALIDATION_STATUS, {"frequence": value},
    )


def invalid_range(message: str) -> NotificationError:
    return NotificationError("RANGE_INVALID", message, VALIDATION_STATUS)
