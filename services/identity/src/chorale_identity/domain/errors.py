"""Domain errors of the identity service: a stable code, a French message, details.

Codes are part of the public HTTP contract (``{"code", "message", "details"}``): never rename
one. Codes marked *internal* must never reach a client; they exist for logs and metrics.

EMAIL_INVALID (422)
    an e-mail address is malformed (registration, Mon compte)
PASSWORD_TOO_WEAK (422)
    the password policy is not met; ``details.manquants`` lists why
PROFILE_INVALID (422)
    a Mon compte field is invalid (empty name, bad phone, too long)
INPUT_INVALID (422)
    another field is invalid (structure identifier, comment too long, label); ``details.champ``
    names it
COMMENT_REQUIRED (422)
    a refusal without a comment
INVALID_CREDENTIALS (401)
    sign-in failed, whatever the reason (unknown e-mail, wrong password, locked, deactivated or
    unverified account; unknown technical client id or wrong secret). The only public sign-in
    failure, so answers never reveal whether an e-mail is registered
ACCOUNT_LOCKED (401)
    5 failed sign-ins or re-authentications, locked for 1 hour. *Internal* at sign-in (public
    answer: INVALID_CREDENTIALS); told to a signed-in person asked for their password again
ACCOUNT_DEACTIVATED (—)
    *internal* at sign-in; 409 when acting on a deactivated account
ACCOUNT_NOT_VERIFIED (—)
    *internal*: the e-mail was never verified (public: INVALID_CREDENTIALS)
TOKEN_INVALID (401)
    a token is malformed, badly signed, signed by an unknown key, or has wrong claims
TOKEN_EXPIRED (401)
    an access or refresh token is past its expiry
TOKEN_REVOKED (401)
    a refresh token whose family was revoked (logout, reuse detected, account deactivated)
VERIFICATION_LINK_INVALID (400)
    an e-mail verification / password reset link is unknown, used or expired
MAIL_LINK_UNAVAILABLE (410)
    notifications asked for the usable link of a link id that is unknown, used, expired or
    superseded (internal endpoint): nothing is to be mailed
SERVICE_UNAUTHENTICATED (401)
    an internal endpoint called without the right service credential
TOTP_REQUIRED (401)
    password correct, a second factor is enrolled and no code was given
TOTP_INVALID (401)
    the TOTP code is wrong, outside the ±1 step window, or already used
TOTP_NOT_ENROLLED (409)
    confirming or disabling a second factor that was never started
TOTP_ALREADY_ENABLED (409)
    starting an enrolment while a confirmed factor exists
CONTACT_EMAIL_NEEDS_CONFIRMATION (422)
    ``PATCH /v1/me`` with ``contactEmail``: the contact e-mail changes only through
    ``POST /v1/me/contact-email`` (current password, then a link sent to the new address)
LINK_COOLDOWN (429)
    a link was mailed to this account moments ago; ``details.retryAfter`` (seconds)
RATTACHEMENT_EXISTS (409)
    a pending or valid rattachement already exists for (user, structure, service)
RATTACHEMENT_NOT_FOUND (404)
    no such rattachement (raised by the service layer)
RATTACHEMENT_ALREADY_DECIDED (409)
    approving or refusing a request that is no longer pending
INVITATION_NOT_FOUND (404)
    no open invitation with this id for the signed-in person (unknown, someone else's, expired)
INVITATION_ALREADY_DECIDED (409)
    the invitation was already accepted or declined
RATTACHEMENT_NOT_ACTIVE (409)
    detaching a rattachement that is not VALIDEE
NOT_GESTIONNAIRE_PRINCIPAL (403)
    only the current gestionnaire principal may do this (transfer the role)
GP_TARGET_NOT_ATTACHED (409)
    the new GP has no VALIDEE rattachement to the structure
GP_TARGET_INACTIVE (409)
    the new GP's account is not active
GP_SAME_USER (409)
    transferring the GP role to its current holder
GP_ALREADY_DESIGNATED (409)
    the structure already has a gestionnaire principal
GP_MUST_TRANSFER_FIRST (409)
    the GP tries to detach from their structure without transferring the role
STRUCTURE_NOT_PUBLIC (409)
    an operator designation on a structure that is not PUBLIQUE
STRUCTURE_NOT_PRIVATE (409)
    creator-becomes-GP on a structure that is not PRIVEE
TECHNICAL_ACCOUNT_REVOKED (401/409)
    the technical account was revoked (right secret, revoked account; or managing it)
FORBIDDEN (403)
    the actor may not do this (not an operator, approving one's own request, …)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


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


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.EMAIL_INVALID: "L'adresse électronique n'est pas valide.",
    ErrorCode.PASSWORD_TOO_WEAK: "Le mot de passe ne respecte pas la politique de sécurité.",
    ErrorCode.PROFILE_INVALID: "Les informations du compte ne sont pas valides.",
    ErrorCode.INPUT_INVALID: "Une donnée saisie n'est pas valide.",
    ErrorCode.COMMENT_REQUIRED: "Un commentaire est obligatoire.",
    ErrorCode.INVALID_CREDENTIALS: "Identifiant ou mot de passe incorrect.",
    ErrorCode.ACCOUNT_LOCKED: "Le compte est verrouillé temporairement.",
    ErrorCode.ACCOUNT_DEACTIVATED: "Le compte est désactivé.",
    ErrorCode.ACCOUNT_NOT_VERIFIED: "L'adresse électronique du compte n'a pas été vérifiée.",
    ErrorCode.TOKEN_INVALID: "Le jeton n'est pas valide.",
    ErrorCode.TOKEN_EXPIRED: "Le jeton a expiré.",
    ErrorCode.TOKEN_REVOKED: "Le jeton a été révoqué.",
    ErrorCode.VERIFICATION_LINK_INVALID: "Ce lien n'est pas valide ou a expiré.",
    ErrorCode.MAIL_LINK_UNAVAILABLE: "Ce lien a expiré, a été utilisé ou remplacé.",
    ErrorCode.SERVICE_UNAUTHENTICATED: "Service appelant non authentifié.",
    ErrorCode.TOTP_REQUIRED: "Un code d'authentification à deux facteurs est requis.",
    ErrorCode.TOTP_INVALID: "Le code d'authentification n'est pas valide.",
    ErrorCode.TOTP_NOT_ENROLLED: "Aucun facteur d'authentification n'est en cours d'activation.",
    ErrorCode.TOTP_ALREADY_ENABLED: "Un facteur d'authentification est déjà activé.",
    ErrorCode.CONTACT_EMAIL_NEEDS_CONFIRMATION: (
        "L'adresse de contact ne se modifie pas ici : utilisez « Changer d'adresse de "
        "contact » (mot de passe actuel, puis confirmation par un lien envoyé à la nouvelle "
        "adresse)."
    ),
    ErrorCode.LINK_COOLDOWN: (
        "Un courriel vient d'être envoyé pour ce compte ; réessayez dans quelques instants."
    ),
    ErrorCode.RATTACHEMENT_EXISTS: "Une demande de rattachement existe déjà.",
    ErrorCode.RATTACHEMENT_NOT_FOUND: "Rattachement introuvable.",
    ErrorCode.RATTACHEMENT_ALREADY_DECIDED: "Cette demande de rattachement a déjà été traitée.",
    ErrorCode.RATTACHEMENT_NOT_ACTIVE: "Ce rattachement n'est pas actif.",
    ErrorCode.INVITATION_NOT_FOUND: "Invitation introuvable ou expirée.",
    ErrorCode.INVITATION_ALREADY_DECIDED: "Vous avez déjà répondu à cette invitation.",
    ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL: (
        "Seul le gestionnaire principal de la structure peut effectuer cette action."
    ),
    ErrorCode.GP_TARGET_NOT_ATTACHED: "L'utilisateur choisi n'est pas rattaché à la structure.",
    ErrorCode.GP_TARGET_INACTIVE: "Le compte de l'utilisateur choisi n'est pas actif.",
    ErrorCode.GP_SAME_USER: "Cet utilisateur est déjà gestionnaire principal de la structure.",
    ErrorCode.GP_ALREADY_DESIGNATED: "La structure a déjà un gestionnaire principal.",
    ErrorCode.GP_MUST_TRANSFER_FIRST: (
        "Le gestionnaire principal doit transférer son rôle avant de se détacher."
    ),
    ErrorCode.STRUCTURE_NOT_PUBLIC: "La structure n'est pas une structure publique.",
    ErrorCode.STRUCTURE_NOT_PRIVATE: "La structure n'est pas une structure privée.",
    ErrorCode.TECHNICAL_ACCOUNT_REVOKED: "Le compte technique a été révoqué.",
    ErrorCode.FORBIDDEN: "Vous n'êtes pas autorisé à effectuer cette action.",
}

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.EMAIL_INVALID: 422,
    ErrorCode.PASSWORD_TOO_WEAK: 422,
    ErrorCode.PROFILE_INVALID: 422,
    ErrorCode.INPUT_INVALID: 422,
    ErrorCode.COMMENT_REQUIRED: 422,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.ACCOUNT_LOCKED: 401,
    ErrorCode.ACCOUNT_DEACTIVATED: 409,
    ErrorCode.ACCOUNT_NOT_VERIFIED: 401,
    ErrorCode.TOKEN_INVALID: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.TOKEN_REVOKED: 401,
    ErrorCode.VERIFICATION_LINK_INVALID: 400,
    ErrorCode.MAIL_LINK_UNAVAILABLE: 410,
    ErrorCode.SERVICE_UNAUTHENTICATED: 401,
    ErrorCode.TOTP_REQUIRED: 401,
    ErrorCode.TOTP_INVALID: 401,
    ErrorCode.TOTP_NOT_ENROLLED: 409,
    ErrorCode.TOTP_ALREADY_ENABLED: 409,
    ErrorCode.CONTACT_EMAIL_NEEDS_CONFIRMATION: 422,
    ErrorCode.LINK_COOLDOWN: 429,
    ErrorCode.RATTACHEMENT_EXISTS: 409,
    ErrorCode.RATTACHEMENT_NOT_FOUND: 404,
    ErrorCode.RATTACHEMENT_ALREADY_DECIDED: 409,
    ErrorCode.RATTACHEMENT_NOT_ACTIVE: 409,
    ErrorCode.INVITATION_NOT_FOUND: 404,
    ErrorCode.INVITATION_ALREADY_DECIDED: 409,
    ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL: 403,
    ErrorCode.GP_TARGET_NOT_ATTACHED: 409,
    ErrorCode.GP_TARGET_INACTIVE: 409,
    ErrorCode.GP_SAME_USER: 409,
    ErrorCode.GP_ALREADY_DESIGNATED: 409,
    ErrorCode.GP_MUST_TRANSFER_FIRST: 409,
    ErrorCode.STRUCTURE_NOT_PUBLIC: 409,
    ErrorCode.STRUCTURE_NOT_PRIVATE: 409,
    ErrorCode.TECHNICAL_ACCOUNT_REVOKED: 401,
    ErrorCode.FORBIDDEN: 403,
}

# Never shown to a client who is not signed in: sign-in answers INVALID_CREDENTIALS instead.
INTERNAL_CODES = frozenset({ErrorCode.ACCOUNT_LOCKED, ErrorCode.ACCOUNT_NOT_VERIFIED})


class DomainError(Exception):
    """A business rule said no. ``code`` is stable; ``message`` is French, for people."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = ErrorCode(code)
        self.message = message or MESSAGES[self.code]
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{self.code}: {self.message}")

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body of CONVENTIONS.md."""
        return {"code": str(self.code), "message": self.message, "details": self.details}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainError):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.code, self.message))


def invalid_credentials() -> DomainError:
    """The one public answer to every failed sign-in: same code, same message, no details."""
    return DomainError(ErrorCode.INVALID_CREDENTIALS)
