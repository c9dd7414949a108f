"""The one error model of every service: a stable UPPER_SNAKE `code` (the contract: clients
and tests match on it), a French `message` for people, `details` for machines (field names,
offending values, limits) and the HTTP status the API answers with. Rendered as
`{"code", "message", "details"}` by the HTTP middleware.

Validation errors (a request or a field that is not valid) answer 422, whoever finds them: the
request schema (`VALIDATION_FAILED`) or a business rule (see docs/CONVENTIONS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

VALIDATION_STATUS = 422


@runtime_checkable
class CodedError(Protocol):
    """What every domain error of every service looks like to the HTTP layer."""

    code: str
    message: str


class ApiError(Exception):
    """The base of every error a service answers with. `status` None: by the code's
    convention (`status_for`)."""

    def __init__(
        self, code: str, message: str, status: int | None = 400,
        details: Mapping[str, Any] | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body of CONVENTIONS.md."""
        return error_body(str(self.code), self.message, self.details)


@dataclass(frozen=True)
class ErrorSpec:
    """One code of a service's catalogue: its HTTP status, its default French message and,
    for the API's documentation, when it happens."""

    status: int
    message: str
    meaning: str = ""


class CataloguedError(ApiError):
    """An error of a service whose codes are listed once, in a catalogue: the message (unless
    a more precise one is given) and the status come from there."""

    catalogue: ClassVar[Mapping[Any, ErrorSpec]] = {}

    def __init__(self, code: str, message: str | None = None,
                 details: Mapping[str, Any] | None = None):
        spec = self.catalogue[code]
        super().__init__(code, message or spec.message, spec.status, details)

    @property
    def http_status(self) -> int:
        return self.catalogue[self.code].status


CATALOGUE_START = "<!-- error codes: generated from the code by `make docs` -->"
CATALOGUE_END = "<!-- end of error codes -->"


def catalogue_table(catalogue: Mapping[Any, ErrorSpec]) -> str:
    """The catalogue as a Markdown table, for the service's API documentation."""
    lines = ["| code | status | when |", "|---|---|---|"]
    for code, spec in catalogue.items():
        lines.append(f"| `{code}` | {spec.status} | {spec.meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def with_catalogue(document: str, catalogue: Mapping[Any, ErrorSpec]) -> str:
    """`document` (Markdown) with the table between its catalogue markers made anew."""
    head, rest = document.split(CATALOGUE_START + "\n", 1)
    _, tail = rest.split(CATALOGUE_END, 1)
    return f"{head}{CATALOGUE_START}\n{catalogue_table(catalogue)}{CATALOGUE_END}{tail}"


def forbidden(message: str = "Vous n'êtes pas habilité à effectuer cette action.") -> ApiError:
    return ApiError("FORBIDDEN", message, 403)


def unauthenticated(message: str = "Authentification requise.") -> ApiError:
    return ApiError("UNAUTHENTICATED", message, 401)


def not_found(code: str, message: str) -> ApiError:
    return ApiError(code, message, 404)


_SUFFIX_STATUS = (
    ("_NOT_FOUND", 404),
    ("_EXISTS", 409),
    ("_TAKEN", 409),
    ("_ALREADY_DECIDED", 409),
    ("_CONFLICT", 409),
    ("_TOO_LARGE", 413),
)
_EXACT_STATUS = {
    "FORBIDDEN": 403,
    "UNAUTHENTICATED": 401,
    "INVALID_CREDENTIALS": 401,
    "TOKEN_INVALID": 401,
    "TOKEN_EXPIRED": 401,
    "TOKEN_REVOKED": 401,
    "INTERNAL_ERROR": 500,
}


def status_for(error: Any, overrides: dict[str, int] | None = None) -> int:
    """HTTP status of a coded error: explicit, then per-service overrides, then by convention."""
    explicit = getattr(error, "status", None) or getattr(error, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    code = error.code
    if overrides and code in overrides:
        return overrides[code]
    if code in _EXACT_STATUS:
        return _EXACT_STATUS[code]
    for suffix, status in _SUFFIX_STATUS:
        if code.endswith(suffix):
            return status
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}
