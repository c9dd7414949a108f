"""Errors an API returns: a stable code, a French message, details, and an HTTP status."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class CodedError(Protocol):
    """What every domain error of every service looks like to the HTTP layer."""

    code: str
    message: str


class ApiError(Exception):
    def __init__(
        self, code: str, message: str, status: int = 400, details: dict[str, Any] | None = None
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


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
