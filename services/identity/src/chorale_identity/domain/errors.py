"""Domain errors of the identity service: a stable code, a French message, details.

Codes are part of the public HTTP contract (`{"code", "message", "details"}`): never rename
one; *internal* ones never reach a client (logs, metrics). `CATALOGUE` lists them once, with
status, message and when each happens; docs/api.md's "Error codes" is generated from it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chorale_runtime.errors import CataloguedError, ErrorSpec


class ErrorCode(StrEnum):
    EMAIL_INVALID = "EMAIL_INVALID"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    PROFILE_INVALID = "PROFILE_INVALID"
    INPUT_INVALID = "INPUT_INVALID"
    COMMENT_REQUIRED = "COMMENT_REQUIRED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    ACCOUNT_DEACTIVATED = "ACCOUNT_DEACTIVATED"
    ACCOUNT_NOT_VERIFIED = "ACCOUNT_NOT_VERIFIED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    VERIFICATION_LINK_INVALID = "VERIFICATION_LINK_INVALID"
    MAIL_LINK_UNAVAILABLE = "MAIL_LINK_UNAVAILABLE"
    SERVICE_UNAUTHENTICATED = "SERVICE_UNAUTHENTICATED"
    TOTP_REQUIRED = "TOTP_REQUIRED"
    TOTP_INVALID = "TOTP_INVALID"
    TOTP_NOT_ENROLLED = "TOTP_NOT_ENROLLED"
    TOTP_ALREADY_ENABLED = "TOTP_ALREADY_ENABLED"
    CONTACT_EMAIL_NEEDS_CONFIRMATION = "CONTACT_EMAIL_NEEDS_CONFIRMATION"
    LINK_COOLDOWN = "LINK_COOLDOWN"
    RATTACHEMENT_EXISTS = "RATTACHEMENT_EXISTS"
    RATTACHEMENT_NOT_FOUND = "RATTACHEMENT_NOT_FOUND"
    RATTACHEMENT_ALREADY_DECIDED = "RATTACHEMENT_ALREADY_DECIDED"
    RATTACHEMENT_NOT_ACTIVE = "RATTACHEMENT_NOT_ACTIVE"
    INVITATION_NOT_FOUND = "INVITATION_NOT_FOUND"
    INVITATION_ALREADY_DECIDED = "INVITATION_ALREADY_DECIDED"
    NOT_GESTIONNAIRE_PRINCIPAL = "NOT_GESTIONNAIRE_PRINCIPAL"
    GP_TARGET_NOT_ATTACHED = "GP_TARGET_NOT_ATTACHED"
    GP_TARGET_INACTIVE = "GP_TARGET_INACTIVE"
    GP_SAME_USER = "GP_SAME_USER"
    GP_ALREADY_DESIGNATED = "GP_ALREADY_DESIGNATED"
    GP_MUST_TRANSFER_FIRST = "GP_MUST_TRANSFER_FIRST"
    STRUCTURE_NOT_PUBLIC = "STRUCTURE_NOT_PUBLIC"
    STRUCTURE_NOT_PRIVATE = "STRUCTURE_NOT_PRIVATE"
    TECHNICAL_ACCOUNT_REVOKED = "TECHNICAL_ACCOUNT_REVOKED"
    FORBIDDEN = "FORBIDDEN"


CATALOGUE: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.EMAIL_INVALID: ErrorSpec(
        422,
        "L'adresse électronique n'est pas valide.",
        "an e-mail address is malformed (registration, Mon compte)",
    ),
    ErrorCode.PASSWORD_TOO_WEAK: ErrorSpec(
        422,
        "Le mot de passe ne respecte pas la politique de sécurité.",
        "the password policy is not met; `details.manquants` lists why",
    ),
    ErrorCode.PROFILE_INVALID: ErrorSpec(
        422,
        "Les informations du compte ne sont pas valides.",
        "a Mon compte field is invalid (empty name, bad phone, too long)",
    ),
    ErrorCode.INPUT_INVALID: ErrorSpec(
        422,
        "Une donnée saisie n'est pas valide.",
        (
            "another field is invalid (structure identifier, comment too long, label); "
            "`details.champ` names it"
        ),
    ),
    ErrorCode.COMMENT_REQUIRED: ErrorSpec(
        422,
        "Un commentaire est obligatoire.",
        "a refusal without a comment",
    ),
    ErrorCode.INVALID_CREDENTIALS: ErrorSpec(
        401,
        "Identifiant ou mot de passe incorrect.",
        (
            "sign-in failed, whatever the reason (unknown e-mail, wrong password, locked, "
            "deactivated or unverified account; unknown technical client id or wrong secret). The "
            "only public sign-in failure, so answers never reveal whether an e-mail is registered"
        ),
    ),
    ErrorCode.ACCOUNT_LOCKED: ErrorSpec(
        401,
        "Le compte est verrouillé temporairement.",
        (
            "5 failed sign-ins or re-authentications, locked for 1 hour. *Internal* at sign-in "
            "(public answer: INVALID_CREDENTIALS); told to a signed-in person asked for their "
            "password again"
        ),
    ),
    ErrorCode.ACCOUNT_DEACTIVATED: ErrorSpec(
        409,
        "Le compte est désactivé.",
        "*internal* at sign-in; 409 when acting on a deactivated account",
    ),
    ErrorCode.ACCOUNT_NOT_VERIFIED: ErrorSpec(
        401,
        "L'adresse électronique du compte n'a pas été vérifiée.",
        "*internal*: the e-mail was never verified (public: INVALID_CREDENTIALS)",
    ),
    ErrorCode.TOKEN_INVALID: ErrorSpec(
        401,
        "Le jeton n'est pas valide.",
        "a token is malformed, badly signed, signed by an unknown key, or has wrong claims",
    ),
    ErrorCode.TOKEN_EXPIRED: ErrorSpec(
        401,
        "Le jeton a expiré.",
        "an access or refresh token is past its expiry",
    ),
    ErrorCode.TOKEN_REVOKED: ErrorSpec(
        401,
        "Le jeton a été révoqué.",
        "a refresh token whose family was revoked (logout, reuse detected, account deactivated)",
    ),
    ErrorCode.VERIFICATION_LINK_INVALID: ErrorSpec(
        400,
        "Ce lien n'est pas valide ou a expiré.",
        "an e-mail verification / password reset link is unknown, used or expired",
    ),
    ErrorCode.MAIL_LINK_UNAVAILABLE: ErrorSpec(
        410,
        "Ce lien a expiré, a été utilisé ou remplacé.",
        (
            "notifications asked for the usable link of a link id that is unknown, used, expired "
            "or superseded (internal endpoint): nothing is to be mailed"
        ),
    ),
    ErrorCode.SERVICE_UNAUTHENTICATED: ErrorSpec(
        401,
        "Service appelant non authentifié.",
        "an internal endpoint called without the right service credential",
    ),
    ErrorCode.TOTP_REQUIRED: ErrorSpec(
        401,
        "Un code d'authentification à deux facteurs est requis.",
        "password correct, a second factor is enrolled and no code was given",
    ),
    ErrorCode.TOTP_INVALID: ErrorSpec(
        401,
        "Le code d'authentification n'est pas valide.",
        "the TOTP code is wrong, outside the ±1 step window, or already used",
    ),
    ErrorCode.TOTP_NOT_ENROLLED: ErrorSpec(
        409,
        "Aucun facteur d'authentification n'est en cours d'activation.",
        "confirming or disabling a second factor that was never started",
    ),
    ErrorCode.TOTP_ALREADY_ENABLED: ErrorSpec(
        409,
        "Un facteur d'authentification est déjà activé.",
        "starting an enrolment while a confirmed factor exists",
    ),
    ErrorCode.CONTACT_EMAIL_NEEDS_CONFIRMATION: ErrorSpec(
        422,
        (
            "L'adresse de contact ne se modifie pas ici : utilisez « Changer d'adresse de contact "
            "» (mot de passe actuel, puis confirmation par un lien envoyé à la nouvelle adresse)."
        ),
        (
            "`PATCH /v1/me` with `contactEmail`: the contact e-mail changes only through `POST "
            "/v1/me/contact-email` (current password, then a link sent to the new address)"
        ),
    ),
    ErrorCode.LINK_COOLDOWN: ErrorSpec(
        429,
        "Un courriel vient d'être envoyé pour ce compte ; réessayez dans quelques instants.",
        "a link was mailed to this account moments ago; `details.retryAfter` (seconds)",
    ),
    ErrorCode.RATTACHEMENT_EXISTS: ErrorSpec(
        409,
        "Une demande de rattachement existe déjà.",
        "a pending or valid rattachement already exists for (user, structure, service)",
    ),
    ErrorCode.RATTACHEMENT_NOT_FOUND: ErrorSpec(
        404,
        "Rattachement introuvable.",
        "no such rattachement (raised by the service layer)",
    ),
    ErrorCode.RATTACHEMENT_ALREADY_DECIDED: ErrorSpec(
        409,
        "Cette demande de rattachement a déjà été traitée.",
        "approving or refusing a request that is no longer pending",
    ),
    ErrorCode.RATTACHEMENT_NOT_ACTIVE: ErrorSpec(
        409,
        "Ce rattachement n'est pas actif.",
        "detaching a rattachement that is not VALIDEE",
    ),
    ErrorCode.INVITATION_NOT_FOUND: ErrorSpec(
        404,
        "Invitation introuvable ou expirée.",
        (
            "no open invitation with this id for the signed-in person (unknown, someone else's, "
            "expired)"
        ),
    ),
    ErrorCode.INVITATION_ALREADY_DECIDED: ErrorSpec(
        409,
        "Vous avez déjà répondu à cette invitation.",
        "the invitation was already accepted or declined",
    ),
    ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL: ErrorSpec(
        403,
        "Seul le gestionnaire principal de la structure peut effectuer cette action.",
        "only the current gestionnaire principal may do this (transfer the role)",
    ),
    ErrorCode.GP_TARGET_NOT_ATTACHED: ErrorSpec(
        409,
        "L'utilisateur choisi n'est pas rattaché à la structure.",
        "the new GP has no VALIDEE rattachement to the structure",
    ),
    ErrorCode.GP_TARGET_INACTIVE: ErrorSpec(
        409,
        "Le compte de l'utilisateur choisi n'est pas actif.",
        "the new GP's account is not active",
    ),
    ErrorCode.GP_SAME_USER: ErrorSpec(
        409,
        "Cet utilisateur est déjà gestionnaire principal de la structure.",
        "transferring the GP role to its current holder",
    ),
    ErrorCode.GP_ALREADY_DESIGNATED: ErrorSpec(
        409,
        "La structure a déjà un gestionnaire principal.",
        "the structure already has a gestionnaire principal",
    ),
    ErrorCode.GP_MUST_TRANSFER_FIRST: ErrorSpec(
        409,
        "Le gestionnaire principal doit transférer son rôle avant de se détacher.",
        "the GP tries to detach from their structure without transferring the role",
    ),
    ErrorCode.STRUCTURE_NOT_PUBLIC: ErrorSpec(
        409,
        "La structure n'est pas une structure publique.",
        "an operator designation on a structure that is not PUBLIQUE",
    ),
    ErrorCode.STRUCTURE_NOT_PRIVATE: ErrorSpec(
        409,
        "La structure n'est pas une structure privée.",
        "creator-becomes-GP on a structure that is not PRIVEE",
    ),
    ErrorCode.TECHNICAL_ACCOUNT_REVOKED: ErrorSpec(
        401,
        "Le compte technique a été révoqué.",
        "the technical account was revoked (right secret, revoked account; or managing it)",
    ),
    ErrorCode.FORBIDDEN: ErrorSpec(
        403,
        "Vous n'êtes pas autorisé à effectuer cette action.",
        "the actor may not do this (not an operator, approving one's own request, …)",
    ),
}

MESSAGES: dict[ErrorCode, str] = {code: spec.message for code, spec in CATALOGUE.items()}
HTTP_STATUS: dict[ErrorCode, int] = {code: spec.status for code, spec in CATALOGUE.items()}

# Never shown to a client who is not signed in: sign-in answers INVALID_CREDENTIALS instead.
INTERNAL_CODES = frozenset({ErrorCode.ACCOUNT_LOCKED, ErrorCode.ACCOUNT_NOT_VERIFIED})


class DomainError(CataloguedError):
    """A business rule said no. `code` is stable; `message` is French, for people."""
    code: ErrorCode

    catalogue = CATALOGUE

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(ErrorCode(code), message, details)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainError):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.code, self.message))


def invalid_credentials() -> DomainError:
    """The one public answer to every failed sign-in: same code, same message, no details."""
    return DomainError(ErrorCode.INVALID_CREDENTIALS)
