"""Typed configuration from environment variables, shared by every service.

Every variable is `CHORALE_<FIELD>` except the two infrastructure endpoints, which also answer
to their conventional names `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` (DESIGN.md §5).
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_MASK = "********"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHORALE_", extra="ignore", frozen=True)

    service_name: str = Field(description="Name used in logs, metrics, Kafka client ids")
    instance_id: str = Field("0", description="Distinguishes replicas of one service")
    http_host: str = Field("127.0.0.1", description="Address the HTTP API listens on")
    http_port: int = Field(8000, ge=1, le=65535, description="Port of the HTTP API")
    admin_host: str = Field(
        "127.0.0.1",
        description="Address of the operations listener (/metrics, detailed /ready): keep it "
        "private (loopback, or an address only Prometheus reaches)",
    )
    admin_port: int | None = Field(
        None, ge=0, le=65535,
        description="Port of the operations listener; default: CHORALE_HTTP_PORT + 100; 0: none",
    )
    public_base_url: str | None = Field(
        None, description="External URL of this service (links in mails); default from host/port"
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "CHORALE_KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers (host:port, comma separated)",
    )
    mongodb_uri: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017/"),
        validation_alias=AliasChoices("MONGODB_URI", "CHORALE_MONGODB_URI"),
        description="MongoDB (or FerretDB) connection string",
    )
    mongodb_database: str = Field(
        "", description="Database of this service (default chorale_<service>)"
    )
    topic_prefix: str = Field("", description="Prefix of every topic name (tenants, tests)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log level written"
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="json: one JSON object per line; console: for humans"
    )
    jwks_url: str = Field(
        "http://127.0.0.1:8002/.well-known/jwks.json",
        description="Where the identity service publishes its token signing keys",
    )
    jwks_max_age_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Longest time a verifier trusts the JWKS it fetched (bounds a revoked "
        "key's life; identity's Cache-Control max-age applies when shorter)",
    )
    jwt_issuer: str = Field("chorale-identity", description="Expected `iss` of access tokens")
    jwt_audience: str = Field("chorale", description="Expected `aud` of access tokens")
    outbox_scan_interval: float = Field(
        30.0, gt=0, description="Seconds between sweeps for events a crash left in an outbox"
    )
    consumer_max_retries: int = Field(5, ge=0, description="Retries of a transient failure")
    consumer_retry_backoff: float = Field(0.2, ge=0, description="First retry delay (doubles)")
    consumer_retry_backoff_max: float = Field(5.0, ge=0, description="Longest retry delay (s)")
    consumer_catch_up_grace: float = Field(
        20.0, ge=0,
        description="A consumer still catching up on its topics (long history after a restart) "
                    "counts as ready after this long; its lag stays in /ready and the metrics",
    )
    shutdown_timeout: float = Field(20.0, gt=0, description="Bound on graceful shutdown (s)")
    metrics_interval: float = Field(5.0, gt=0, description="Seconds between lag/backlog samples")

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _hosts_have_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port, got {server.strip()!r}")
        return value

    @property
    def database_name(self) -> str:
        return self.mongodb_database or f"chorale_{self.service_name.replace('-', '_')}"

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def operations_port(self) -> int | None:
        """Where /metrics and the detailed /ready are served (None: nowhere)."""
        if self.admin_port is None:
            return self.http_port + 100 if self.http_port + 100 <= 65535 else None
        return self.admin_port or None

    @property
    def client_id(self) -> str:
        return f"chorale-{self.service_name}-{self.instance_id}"

    def effective(self) -> dict[str, Any]:
        """Every setting with secrets masked, for `chorale config` and start-up logs."""
        out: dict[str, Any] = {}
        for name, value in self:
            if isinstance(value, SecretStr):
                out[name] = _mask_uri(value.get_secret_value()) if "uri" in name else SECRET_MASK
            else:
                out[name] = value
        return out


def _mask_uri(uri: str) -> str:
    """Hide the password of a connection string, keep the rest readable."""
    scheme, sep, rest = uri.partition("://")
    if not sep or "@" not in rest:
        return uri
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:{SECRET_MASK}@{host}"


S = TypeVar("S", bound=ServiceSettings)


class ConfigurationError(SystemExit):
    """Raised (and exits with status 2) when the environment does not form a valid config."""


def describe_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        parts.append(f"CHORALE_{field.upper()}: {err['msg']}")
    return "; ".join(parts)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Load settings or exit with a one-line reason (a service never starts half-configured)."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        name = cls.model_fields["service_name"].default or "service"
        print(f"chorale-{name}: invalid configuration: {describe_error(exc)}", file=sys.stderr)
        raise ConfigurationError(2) from None
