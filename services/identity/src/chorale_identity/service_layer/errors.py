"""Errors of the service layer about things the domain does not own (structures known from
events, accounts looked up by others). Same ``{"code", "message", "details"}`` shape."""

from __future__ import annotations

from chorale_runtime.errors import ApiError


def structure_not_found(identifiant: str) -> ApiError:
    return ApiError(
        "STRUCTURE_NOT_FOUND",
        f"La structure {identifiant} est inconnue.",
        404,
        {"structure": identifiant},
    )


def structure_inactive(identifiant: str) -> ApiError:
    return ApiError(
        "STRUCTURE_INACTIVE",
        f"La structure {identifiant} est inactive.",
        409,
        {"structure": identifiant},
    )


def service_not_found(identifiant: str, code: str) -> ApiError:
    return ApiError(
        "SERVICE_NOT_FOUND",
        f"Le service {code} n'existe pas dans la structure {identifiant}.",
        404,
        {"structure": identifiant, "codeService": code},
    )


def service_inactive(identifiant: str, code: str) -> ApiError:
    return ApiError(
        "SERVICE_INACTIVE",
        f"Le service {code} de la structure {identifiant} est inactif.",
        409,
        {"structure": identifiant, "codeService": code},
    )


def user_not_found() -> ApiError:
    return ApiError("USER_NOT_FOUND", "Aucun compte utilisateur ne correspond.", 404)


def technical_account_not_found() -> ApiError:
    return ApiError("TECHNICAL_ACCOUNT_NOT_FOUND", "Compte technique introuvable.", 404)


def gestionnaire_not_found(identifiant: str) -> ApiError:
    return ApiError(
        "GESTIONNAIRE_NOT_FOUND",
        f"La structure {identifiant} n'a pas de gestionnaire principal.",
        404,
        {"structure": identifiant},
    )
