"""Configuration of the portal (``CHORALE_*`` environment variables)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from chorale_runtime.client_address import parse_networks
from chorale_runtime.settings import ServiceSettings


class PortalSettings(ServiceSettings):
    service_name: str = "portal"
    http_port: int = Field(8080, ge=1, le=65535, description="Port of the HTTP API")
    identity_url: str = Field(
        "http://127.0.0.1:8002", description="Base URL of the identity service's API"
    )
    structures_url: str = Field(
        "http://127.0.0.1:8001", description="Base URL of the structures service's API"
    )
    habilitations_url: str = Field(
        "http://127.0.0.1:8003", description="Base URL of the habilitations service's API"
    )
    intake_url: str = Field(
        "http://127.0.0.1:8004", description="Base URL of the invoice intake's API"
    )
    notifications_url: str = Field(
        "http://127.0.0.1:8005", description="Base URL of the notifications service's API"
    )
    partner_intake_url: str = Field(
        "http://127.0.0.1:8004",
        description="Portal (Raccordements): the intake's address as EDI/API partners reach it",
    )
    partner_token_url: str = Field(
        "http://127.0.0.1:8002/v1/auth/token",
        description="Portal (Raccordements): where a technical account gets its token, as "
        "partners reach it",
    )
    partner_edi_root: str = Field(
        "var/edi",
        description="Portal (Raccordements): the EDI root as partners see it (the intake's "
        "CHORALE_EDI_ROOT, or the path of its SFTP share)",
    )
    invoices_url: str = Field(
        "http://127.0.0.1:8006", description="Base URL of the invoices service's API"
    )
    header_cache_seconds: float = Field(
        15.0, ge=0, description="Portal: how long the menu's rights and the unread-messages "
        "badge of a session are reused before being asked again (0: every page)"
    )
    service_timeout_seconds: float = Field(
        10.0, gt=0, description="Portal: longest wait for one answer of a service's API"
    )
    session_idle_minutes: int = Field(
        60, ge=1, description="Portal: a session unused this long is signed out"
    )
    session_max_hours: int = Field(
        12, ge=1, description="Portal: a session ends this long after sign-in whatever happens"
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Portal: Secure flag of its cookies (auto: when the request came over "
        "https, as told by the URL or X-Forwarded-Proto from a trusted proxy)",
    )
    trust_forwarded_proto: bool = Field(
        False, description="Portal: believe X-Forwarded-Proto (only behind your own proxy)"
    )
    trusted_proxies: str = Field(
        "",
        description="Portal: comma-separated addresses or CIDR networks of the reverse proxies "
        "in front of the portal, whose X-Forwarded-For names the browser (none by default: "
        "the browser is the socket peer). The portal passes the browser's address on to "
        "identity, which rate-limits per address",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value
