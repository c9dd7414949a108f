"""A service's refusal, turned into what a form shows: French messages next to the fields they
concern, the rest at the top of the form. Never the JSON, never a code alone."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Which field a coded error is about, when the service names none.
FIELD_OF_CODE: dict[str, str] = {
    "EMAIL_INVALID": "email",
    "PASSWORD_TOO_WEAK": "password",
    "TOTP_INVALID": "totp",
    "SIRET_INVALID": "identifiant",
    "IDENTIFIER_INVALID": "identifiant",
    "STRUCTURE_EXISTS": "identifiant",
    "SERVICE_CODE_TAKEN": "codeService",
    "SERVICE_CODE_INVALID": "codeService",
    "SERVICE_CODE_RESERVED": "codeService",
    "DATES_INCOHERENT": "dateFinActivation",
    "IBAN_INVALID": "iban",
    "BIC_INVALID": "bic",
    "RIB_INVALID": "numeroCompte",
    "RIB_KEY_INVALID": "cleRib",
    "ATTACHMENT_TOO_LARGE": "fichier",
    "ATTACHMENT_EMPTY": "fichier",
    "COMMENT_REQUIRED": "commentaire",
}

# Refusals that only ask to wait: the portal says how long (`details.retryAfter`, or the
# answer's Retry-After header), at the top of the form — the form itself was fine.
WAIT_MESSAGES: dict[str, str] = {
    "RATE_LIMITED": "Trop de tentatives en peu de temps. Par sécurité, réessayez dans {wait}.",
    "LINK_COOLDOWN": "Un courriel vient déjà d'être envoyé pour ce compte. Réessayez dans "
                     "{wait}.",
    "SERVICE_BUSY": "Le service est très sollicité en ce moment. Réessayez dans {wait}.",
}

_FRENCH_VALIDATION = {
    "Field required": "valeur obligatoire",
    "Extra inputs are not permitted": "champ inconnu",
}


@dataclass
class FormErrors:
    top: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.top or self.fields)

    def merge(self, other: FormErrors) -> None:
        self.top += other.top
        for name, message in other.fields.items():
            self.fields.setdefault(name, message)

    def add(self, name: str | None, message: str) -> None:
        if name:
            self.fields.setdefault(name, message)
        else:
            self.top.append(message)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def wait_fr(seconds: object) -> str | None:
    """45 → « 45 secondes », 61 → « 2 minutes » (rounded up: never too early)."""
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if value != value or value <= 0:  # NaN or nothing to wait
        return None
    if value < 60:
        whole = max(1, math.ceil(value))
        return f"{whole} seconde{'s' if whole > 1 else ''}"
    minutes = math.ceil(value / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def wait_message(code: str, message: str, details: Mapping[str, Any]) -> str:
    if code not in WAIT_MESSAGES:
        return message
    wait = wait_fr(details.get("retryAfter"))
    if wait is None:
        return message or WAIT_MESSAGES[code].format(wait="quelques instants")
    return WAIT_MESSAGES[code].format(wait=wait)


def form_errors(code: str, message: str, details: Mapping[str, Any] | None = None, *,
                aliases: Mapping[str, str] | None = None,
                code_fields: Mapping[str, str] | None = None,
                known: set[str] | None = None) -> FormErrors:
    """`aliases` renames a service's field to the form's (e.g. password → newPassword);
    `code_fields` places a code on a field for this form (beyond FIELD_OF_CODE);
    `known` lists the form's fields: an error about any other field goes to the top."""
    aliases = aliases or {}
    details = details or {}
    errors = FormErrors()
    if code in WAIT_MESSAGES:
        errors.top.append(wait_message(code, message, details))
        return errors

    def place(name: str | None, text: str) -> None:
        if name:
            name = aliases.get(name, name)
            if known is not None and name not in known:
                errors.add(None, text)
                return
        errors.add(name, text)

    per_field: dict[str, str] = {}
    if isinstance(details.get("fields"), Mapping):  # structures: {champ: raison}
        per_field.update({str(k): str(v) for k, v in details["fields"].items()})
    if isinstance(details.get("champs"), list):  # identity, FastAPI: [{champ, erreur}]
        for item in details["champs"]:
            if isinstance(item, Mapping) and item.get("champ"):
                raw = str(item.get("erreur") or "valeur invalide")
                per_field.setdefault(str(item["champ"]), _FRENCH_VALIDATION.get(raw, raw))
    if per_field:
        for name, reason in per_field.items():
            place(name, _sentence(reason))
        if code != "VALIDATION_FAILED":
            errors.top.insert(0, message)
        elif not errors.top:
            errors.top.insert(0, "Le formulaire contient des erreurs : voir les champs signalés.")
        return errors
    place((code_fields or {}).get(code) or FIELD_OF_CODE.get(code), message)
    return errors
