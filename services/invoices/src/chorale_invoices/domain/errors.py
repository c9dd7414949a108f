"""Errors of the invoices service: a stable code, a French message, an HTTP status."""

from __future__ import annotations

from typing import Any

from chorale_runtime.errors import VALIDATION_STATUS, ApiError


class InvoiceError(ApiError):
    """By default a validation error: 422 (docs/CONVENTIONS.md)."""

    def __init__(self, code: str, message: str, *, status: int = VALIDATION_STATUS,
                 details: dict[str, Any] | None = None):
        super().__init__(code, message, status, details)


def invoice_not_found(invoice_id: str) -> InvoiceError:
    return InvoiceError("INVOICE_NOT_FOUND", f"Facture {invoice_id} introuvable.", status=404)


def version_conflict(expected: int, actual: int) -> InvoiceError:
    return InvoiceError(
        "INVOICE_VERSION_CONFLICT",
        "La facture a été modifiée entre-temps par quelqu'un d'autre : rechargez-la puis "
        "recommencez.", status=409,
        details={"versionAttendue": expected, "versionActuelle": actual})
