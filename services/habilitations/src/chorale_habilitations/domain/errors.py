"""Domain errors: a stable code, a French message, optional details and HTTP status."""

from __future__ import annotations

from typing import Any

from chorale_runtime.errors import ApiError


class HabilitationError(ApiError):
    """`status` None: by the code's convention (`*_NOT_FOUND` 404, `*_EXISTS` 409…)."""

    def __init__(
        self, code: str, message: str, details: dict[str, Any] | None = None,
        status: int | None = None,
    ):
        super().__init__(code, message, status, details)


def not_found(grant_id: str) -> HabilitationError:
    return HabilitationError("HABILITATION_NOT_FOUND", f"Habilitation {grant_id} introuvable.",
                             {"grantId": grant_id})


def already_granted(grant_id: str, mode: str) -> HabilitationError:
    return HabilitationError(
        "HABILITATION_EXISTS",
        "Cet utilisateur détient déjà ce profil à ce niveau ; modifiez-en le mode.",
        {"grantId": grant_id, "mode": mode},
    )


def conflict(grant_id: str) -> HabilitationError:
    return HabilitationError(
        "HABILITATION_CONFLICT",
        "Cette habilitation a été modifiée entre-temps ; rechargez-la et recommencez.",
        {"grantId": grant_id},
    )


def not_attached(user_id: str, structure: str, code_service: str | None) -> HabilitationError:
    where = f"au service {code_service} de la structure {structure}" if code_service \
        else f"à la structure {structure}"
    return HabilitationError(
        "USER_NOT_ATTACHED",
        f"L'utilisateur n'est pas rattaché {where} : aucune habilitation ne peut lui y être "
        "donnée.",
        {"userId": user_id, "structure": structure, "codeService": code_service},
        status=409,
    )


def user_deactivated(user_id: str) -> HabilitationError:
    return HabilitationError("USER_DEACTIVATED", "Ce compte utilisateur est désactivé.",
                             {"userId": user_id}, status=409)


def self_elevation() -> HabilitationError:
    return HabilitationError(
        "SELF_ELEVATION_FORBIDDEN",
        "Personne ne peut étendre ses propres habilitations.", status=403,
    )


def gestionnaire_protected(user_id: str, structure: str) -> HabilitationError:
    return HabilitationError(
        "GESTIONNAIRE_PRINCIPAL_PROTECTED",
        "Les habilitations du gestionnaire principal sur sa structure suivent son rôle : "
        "elles ne se modifient pas ici (transférez d'abord le rôle).",
        {"userId": user_id, "structure": structure}, status=409,
    )
