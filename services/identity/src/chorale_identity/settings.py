"""Configuration of the identity service (``CHORALE_*`` environment variables)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from chorale_identity.domain.passwords import Argon2Params, below_owasp_minimum
from chorale_identity.rate_limits import Rate
from chorale_runtime.client_address import parse_networks
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
    contact_email_verification_path: str = Field(
        "/compte/confirmation-contact",
        description="Path (under CHORALE_PUBLIC_BASE_URL) of the page that confirms a new "
        "contact e-mail; the link adds ?token=…",
    )
    mail_links_client_secret_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 (hex) of the secret notifications presents to obtain the usable "
        "link of a mail: verification, reset, contact e-mail confirmation (python -m "
        "chorale_identity.admin new-service-secret); unset: no mail link can be sent",
    )
    link_resend_cooldown_seconds: int = Field(
        60, ge=0, description="At most one verification or reset mail per account in this time"
    )

    argon2_time_cost: int = Field(2, ge=1, description="argon2id iterations (t)")
    argon2_memory_kib: int = Field(65536, ge=8, description="argon2id memory in KiB (m)")
    argon2_parallelism: int = Field(1, ge=1, description="argon2id lanes (p)")
    argon2_insecure_for_tests: bool = Field(
        False,
        description="Accept argon2id costs below the OWASP minimum (test suites only; never "
        "in production)",
    )
    argon2_concurrency: int = Field(
        0, ge=0, description="argon2id computations at once per process (0: one per core)"
    )
    argon2_max_wait_seconds: float = Field(
        2.0,
        gt=0,
        description="Longest wait for an argon2id slot; beyond it 503 SERVICE_BUSY",
    )

    trusted_proxies: str = Field(
        "127.0.0.1,::1",
        description="Comma-separated addresses or CIDR networks of reverse proxies (and the "
        "portal) whose X-Forwarded-For names the client; any other peer is the client itself",
    )
    rate_sign_in_per_address: str = Field(
        "30/60",
        description="Sign-ins and re-authentications per client address: '<count>/<seconds>' "
        "token bucket, per process ('0/1': off)",
    )
    rate_sign_in_per_account: str = Field(
        "20/300", description="Sign-ins per e-mail typed (known or not), per process"
    )
    rate_registration_per_address: str = Field(
        "20/600", description="Registrations per client address, per process"
    )
    rate_registration_per_account: str = Field(
        "5/600", description="Registrations per e-mail typed, per process"
    )
    rate_mail_per_address: str = Field(
        "20/600",
        description="Password-reset and verification-mail requests (and reset confirmations) "
        "per client address, per process",
    )
    rate_mail_per_account: str = Field(
        "5/600", description="Password-reset and verification-mail requests per e-mail typed"
    )
    rate_reauth_per_account: str = Field(
        "20/300",
        description="Re-authentications of « Mon compte » (password, contact e-mail, TOTP, "
        "deactivation) per signed-in account, per process",
    )
    rate_concurrent_per_address: int = Field(
        1,
        ge=0,
        description="Requests paying argon2id (sign-in, registration, reset, re-authentication) "
        "in progress at once per client address; more get 429 (0: no cap)",
    )
    rate_limit_max_keys: int = Field(
        100_000, ge=100, description="Buckets kept per limit (least recently used forgotten)"
    )

    @field_validator(
        "rate_sign_in_per_address",
        "rate_sign_in_per_account",
        "rate_registration_per_address",
        "rate_registration_per_account",
        "rate_mail_per_address",
        "rate_mail_per_account",
        "rate_reauth_per_account",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        Rate.parse(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @model_validator(mode="after")
    def _argon2_owasp_minimum(self) -> IdentitySettings:
        problem = below_owasp_minimum(self.argon2_params)
        if problem and not self.argon2_insecure_for_tests:
            raise ValueError(problem)
        return self

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
    def argon2_slots(self) -> int:
        return self.argon2_concurrency or os.cpu_count() or 2

    @property
    def argon2_params(self) -> Argon2Params:
        return Argon2Params(
            time_cost=self.argon2_time_cost,
            memory_cost=self.argon2_memory_kib,
            parallelism=self.argon2_parallelism,
        )

    def link(self, path: str, token: str) -> str:
        return f"{self.base_url}{path}?token={token}"
