"""Configuration of the identity service (``CHORALE_*`` environment variables)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from chorale_identity.domain.passwords import Argon2Params
from chorale_runtime.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    service_name: str = "identity"
    http_port: int = Field(8002, ge=1, le=65535, description="Port of the HTTP API")

    access_token_ttl_seconds: int = Field(
        900, ge=60, le=3600, description="Lifetime of access tokens (JWT), in seconds"
    )
    refresh_idle_ttl_days: int = Field(
        7, ge=1, description="A refresh token unused for this many days expires"
    )
    refresh_family_ttl_days: int = Field(
        30, ge=1, description="A sign-in session ends after this many days whatever happens"
    )

    secrets_key: SecretStr | None = Field(
        None,
        description="Key sealing the signing keys and TOTP seeds at rest (base64 of 32 bytes; "
        "several comma-separated: the first seals, all open). Overrides the key file",
    )
    secrets_key_file: Path = Field(
        Path("var/identity/secrets.key"),
        description="File holding that key when CHORALE_SECRETS_KEY is unset; created "
        "(mode 0600) at first start if absent. Back it up, apart from the database backups",
    )
    signing_key_passphrase: SecretStr | None = Field(
        None,
        description="Only to read signing keys an earlier version stored encrypted with a "
        "passphrase; they are re-sealed with the secrets key at start",
    )
    signing_key_rotation_days: int = Field(
        90, ge=0, description="Rotate the signing key automatically at this age (0: never)"
    )
    signing_key_publish_seconds: int = Field(
        60, ge=0, description="A new key is in the JWKS this long before it signs anything"
    )
    signing_key_retention_seconds: int = Field(
        3600, ge=0, description="A retired key stays in the JWKS this long after its successor"
    )
    signing_key_refresh_seconds: float = Field(
        30.0, gt=0, description="How often a replica re-reads the shared key ring"
    )

    email_verification_path: str = Field(
        "/compte/verification",
        description="Path (under CHORALE_PUBLIC_BASE_URL) of the page that confirms an e-mail; "
        "the link adds ?token=…",
    )
    password_reset_path: str = Field(
        "/compte/reinitialisation-mot-de-passe",
        description="Path (under CHORALE_PUBLIC_BASE_URL) of the password reset page",
    )
    mail_links_client_secret_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 (hex) of the secret notifications presents to obtain the usable "
        "link of a verification or reset mail (python -m chorale_identity.admin "
        "new-service-secret); unset: no mail link can be sent",
    )
    link_resend_cooldown_seconds: int = Field(
        60, ge=0, description="At most one verification or reset mail per account in this time"
    )

    argon2_time_cost: int = Field(2, ge=1, description="argon2id iterations (t)")
    argon2_memory_kib: int = Field(65536, ge=8, description="argon2id memory in KiB (m)")
    argon2_parallelism: int = Field(1, ge=1, description="argon2id lanes (p)")

    @model_validator(mode="after")
    def _retention_outlives_tokens(self) -> IdentitySettings:
        if self.signing_key_retention_seconds < self.access_token_ttl_seconds:
            raise ValueError(
                "signing_key_retention_seconds must be at least access_token_ttl_seconds "
                "(a retired key must verify the tokens it signed until they expire)"
            )
        return self

    @property
    def access_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.access_token_ttl_seconds)

    @property
    def argon2_params(self) -> Argon2Params:
        return Argon2Params(
            time_cost=self.argon2_time_cost,
            memory_cost=self.argon2_memory_kib,
            parallelism=self.argon2_parallelism,
        )

    def link(self, path: str, token: str) -> str:
        return f"{self.base_url}{path}?token={token}"
