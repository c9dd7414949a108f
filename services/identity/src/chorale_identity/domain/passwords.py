"""Password policy and argon2id hashing.

Policy (``check_password``): at least 12 characters (at most 256, so hashing stays bounded),
at least 3 of the 4 character classes (lower case, upper case, digits, others), must not
contain the local part of the login e-mail, must not be a common password. The French
reasons are returned together, so the user fixes everything at once.

Hashing parameters (``DEFAULT_PARAMS``), chosen deliberately:

* argon2id (RFC 9106), ``time_cost=2``, ``memory_cost=65536`` KiB (64 MiB), ``parallelism=1``,
  16-byte salt, 32-byte hash.
* OWASP's floor is m=19 MiB, t=2, p=1; we pay 3.4× that memory because a sign-in is rare for
  a person while an offline attacker pays the memory on every guess. ``parallelism=1`` keeps a
  sign-in from taking both cores of a small host.
* One verification takes a tenth of a second of one core or so (docs/MEASUREMENTS.md): a core
  verifies a handful of sign-ins per second, so rate limiting sign-in is not optional and the
  work is bounded (``service_layer/password_work.py``).
* ``needs_rehash`` tells the sign-in path to re-hash a stored hash made with other
  parameters, so they can be changed later without a migration.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import DomainError, ErrorCode

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_CLASSES = 3

# Passwords of 12+ characters that top public breach lists (and French favourites). Length
# and class rules already stop the short ones; compared case-insensitively.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "password123!",
        "motdepasse123",
        "motdepasse1234",
        "motdepasse123!",
        "motdepasse2024",
        "motdepasse2025",
        "azertyuiop123",
        "azertyuiop12",
        "azertyuiop1234",
        "azerty123456",
        "azerty123456!",
        "qwertyuiop123",
        "qwerty123456",
        "qwerty123456!",
        "123456789abc",
        "abc123456789",
        "1234567890ab",
        "iloveyou1234",
        "welcome12345",
        "bienvenue123",
        "bienvenue1234",
        "bonjour12345",
        "soleil123456",
        "jetaime12345",
        "choruspro123",
        "choruspro2024",
        "chorale12345",
        "administrator1",
        "administrateur",
        "administrateur1",
        "changeme1234",
        "letmein12345",
        "football1234",
        "marseille1234",
        "p@ssw0rd1234",
        "passw0rd1234",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "aze123aze123",
    }
)

_CLASSES = (
    ("minuscules", set(string.ascii_lowercase)),
    ("majuscules", set(string.ascii_uppercase)),
    ("chiffres", set(string.digits)),
)


def _classes_present(password: str) -> list[str]:
    present = [name for name, chars in _CLASSES if any(c in chars for c in password)]
    # Accented letters and other non-ASCII characters count as "caractères spéciaux": they
    # are what a French user reaches for, and they widen the alphabet as much as symbols do.
    if any(not (c.isascii() and c.isalnum()) for c in password):
        present.append("caractères spéciaux")
    return present


def check_password(password: str, *, email: str | None = None) -> list[str]:
    """Return the French reasons why ``password`` is refused (empty list: accepted)."""
    reasons: list[str] = []
    if len(password) < MIN_LENGTH:
        reasons.append(f"au moins {MIN_LENGTH} caractères (actuellement {len(password)})")
    if len(password) > MAX_LENGTH:
        reasons.append(f"au plus {MAX_LENGTH} caractères")
    present = _classes_present(password)
    if len(present) < MIN_CLASSES:
        missing = [
            n
            for n in ("minuscules", "majuscules", "chiffres", "caractères spéciaux")
            if n not in present
        ]
        reasons.append(
            f"au moins {MIN_CLASSES} types de caractères parmi minuscules, majuscules, "
            f"chiffres et caractères spéciaux (manquants : {', '.join(missing)})"
        )
    local_part = (email or "").split("@", 1)[0].strip().lower()
    if len(local_part) >= 3 and local_part in password.lower():
        reasons.append("ne pas contenir l'identifiant de l'adresse électronique")
    if password.lower() in COMMON_PASSWORDS:
        reasons.append("ne pas être un mot de passe courant")
    return reasons


def validate_password(password: str, *, email: str | None = None) -> None:
    """Raise PASSWORD_TOO_WEAK with ``details.manquants`` when the policy is not met."""
    reasons = check_password(password, email=email)
    if reasons:
        raise DomainError(
            ErrorCode.PASSWORD_TOO_WEAK,
            "Le mot de passe doit comporter : " + " ; ".join(reasons) + ".",
            {"manquants": reasons},
        )


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 2
    memory_cost: int = 65536  # KiB = 64 MiB
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16

    @classmethod
    def fast_for_tests(cls) -> Argon2Params:
        """Argon2's minimum cost: unit tests only, never in a running service."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)


DEFAULT_PARAMS = Argon2Params()

# OWASP Password Storage Cheat Sheet, argon2id: any of these (memory KiB, iterations) pairs,
# parallelism 1, is the floor. More memory or more iterations than a row is fine.
OWASP_MINIMUM = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def below_owasp_minimum(params: Argon2Params) -> str | None:
    """Why ``params`` are too weak to run a service with (None: acceptable)."""
    if params.parallelism >= 1 and any(
        params.memory_cost >= memory and params.time_cost >= iterations
        for memory, iterations in OWASP_MINIMUM
    ):
        return None
    return (
        f"argon2id m={params.memory_cost} KiB t={params.time_cost} p={params.parallelism} is "
        "below the OWASP minimum (m=19456 KiB (19 MiB) with t=2, or m=47104 KiB with t=1, "
        "m=12288 with t=3, m=9216 with t=4, m=7168 with t=5; p=1): raise "
        "CHORALE_ARGON2_MEMORY_KIB / CHORALE_ARGON2_TIME_COST"
    )


class PasswordHasher:
    """argon2id hashing with a constant-cost answer for accounts that do not exist."""

    def __init__(self, params: Argon2Params = DEFAULT_PARAMS) -> None:
        self.params = params
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=argon2.Type.ID,
        )
        # A real hash of an unguessable password, same parameters as real accounts: checking a
        # password against it costs exactly what a real verification costs and never succeeds.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def dummy_verify(self, password: str) -> bool:
        """Burn one verification's worth of time for an unknown account; always False."""
        self.verify(self._dummy_hash, password)
        return False
