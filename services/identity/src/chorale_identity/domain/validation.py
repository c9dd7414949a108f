"""Validation and normalisation of account fields (e-mail addresses, names, phones).

E-mail addresses are ASCII only (no internationalised domains or local parts yet) and are
stored lower-case: the login e-mail is the identity, so ``Jean@X.fr`` and ``jean@x.fr`` must be
the same account.
"""

from __future__ import annotations

import re

from .errors import DomainError, ErrorCode

_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_PHONE = re.compile(r"^\+?[0-9][0-9 .()-]{4,23}$")
_NAME_MAX = 100


# -- validation -------------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    """Trim and lower-case an address; raise EMAIL_INVALID if it is not one."""
    email = (value or "").strip().lower()
    local = email.split("@", 1)[0]
    if len(email) > 254 or len(local) > 64 or not _EMAIL.match(email):
        raise DomainError(ErrorCode.EMAIL_INVALID, details={"valeur": value})
    return email


def clean_name(value: str, champ: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned or len(cleaned) > _NAME_MAX or not cleaned.isprintable():
        raise DomainError(
            ErrorCode.PROFILE_INVALID, f"Le champ « {champ} » est invalide.", {"champ": champ}
        )
    return cleaned


def clean_phone(value: str | None, champ: str) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        return None
    if not _PHONE.match(cleaned):
        raise DomainError(
            ErrorCode.PROFILE_INVALID, f"Le champ « {champ} » est invalide.", {"champ": champ}
        )
    return cleaned
