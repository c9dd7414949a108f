"""Request bodies of the HTTP API (camelCase, unknown fields refused). Secrets are
``SecretStr`` so no repr, log line or validation error can show them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Contact(Body):
    contactEmail: str | None = Field(None, max_length=254)
    telephone: str | None = Field(None, max_length=40)
    mobile: str | None = Field(None, max_length=40)


class RegisterBody(_Contact):
    email: str = Field(max_length=254)
    password: SecretStr = Field(max_length=1024)
    prenom: str = Field(max_length=200)
    nom: str = Field(max_length=200)


class TokenBody(Body):
    token: SecretStr = Field(max_length=200)


class EmailBody(Body):
    email: str = Field(max_length=254)


class LoginBody(Body):
    email: str = Field(max_length=254)
    password: SecretStr = Field(max_length=1024)
    totp: SecretStr | None = Field(None, max_length=20)


class RefreshBody(Body):
    refreshToken: SecretStr = Field(max_length=200)


class ResetConfirmBody(Body):
    token: SecretStr = Field(max_length=200)
    newPassword: SecretStr = Field(max_length=1024)


class ClientCredentialsBody(Body):
    clientId: str = Field(max_length=200)
    clientSecret: SecretStr = Field(max_length=200)


class ProfilePatch(_Contact):
    prenom: str | None = Field(None, max_length=200)
    nom: str | None = Field(None, max_length=200)


class ReauthBody(Body):
    """The proof a sensitive change asks for: the current password, and the TOTP code
    (``totp``, as at sign-in) when the second factor is on."""

    currentPassword: SecretStr = Field(max_length=1024)
    totp: SecretStr | None = Field(None, max_length=20)


class PasswordChangeBody(ReauthBody):
    newPassword: SecretStr = Field(max_length=1024)


class ContactEmailBody(ReauthBody):
    contactEmail: str = Field(max_length=254)


class TotpCodeBody(Body):
    code: SecretStr = Field(max_length=20)


class TotpDisableBody(Body):
    currentPassword: SecretStr = Field(max_length=1024)
    code: SecretStr = Field(max_length=20)


class RattachementBody(Body):
    structure: str = Field(max_length=80)
    codeService: str | None = Field(None, max_length=100)
    commentaire: str | None = Field(None, max_length=2000)


class DecisionBody(Body):
    commentaire: str | None = Field(None, max_length=2000)


class DirectAttachBody(Body):
    email: str = Field(max_length=254)
    codeService: str | None = Field(None, max_length=100)
    commentaire: str | None = Field(None, max_length=2000)


class DesignateBody(Body):
    userId: str = Field(max_length=100)
    replace: bool = False


class TransferBody(Body):
    toUserId: str = Field(max_length=100)


class TechnicalAccountBody(Body):
    label: str = Field(max_length=200)


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
