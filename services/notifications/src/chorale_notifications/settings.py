from typing import Literal

from pydantic import Field, SecretStr

from chorale_runtime.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = Field(8005, ge=1, le=65535)

    # -- SMTP -------------------------------------------------------------------------------
    smtp_host: str = Field("127.0.0.1", description="SMTP server (the dev mail catcher locally)")
    smtp_port: int = Field(2525, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="none, starttls (upgrade after connect) or tls (implicit TLS)"
    )
    smtp_username: str | None = Field(None, description="SMTP login (none: no AUTH)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_sender: str = Field(
        "Chorale <ne-pas-repondre@chorale.local>", description="From: of every mail"
    )
    smtp_timeout: float = Field(10.0, gt=0, description="SMTP connect/command timeout (s)")
    smtp_concurrency: int = Field(4, ge=1, le=64, description="Mails sent in parallel")
    message_id_domain: str = Field(
        "chorale.local", description="Right-hand side of the Message-ID header of every mail"
    )

    # -- delivery ---------------------------------------------------------------------------
    delivery_max_attempts: int = Field(
        6, ge=1, description="Attempts at a mail before it is parked as FAILED"
    )
    delivery_backoff: float = Field(2.0, gt=0, description="First retry delay (s), doubling")
    delivery_backoff_max: float = Field(600.0, gt=0, description="Longest retry delay (s)")
    dispatch_interval: float = Field(
        30.0, gt=0,
        description="Seconds between scans of the database for pending deliveries (new ones "
                    "and retries are queued in memory at once; the scan is a safety net)",
    )

    # -- single-use links (verification, password reset) ---------------------------------
    identity_url: str = Field(
        "http://127.0.0.1:8002", description="Identity service, asked for a mail's usable link"
    )
    mail_links_client_secret: SecretStr | None = Field(
        None,
        description="Secret presented to identity to obtain the usable link of a verification "
        "or reset mail at sending time (identity holds its SHA-256)",
    )

    # -- composition ------------------------------------------------------------------------
    portal_url: str = Field(
        "http://127.0.0.1:8080", description="Public URL of the portal (links in mails)"
    )
    habilitations_digest_seconds: float = Field(
        10.0, ge=0, description="Habilitation changes of one user within this window: one mail"
    )
    notice_frequency: Literal["IMMEDIAT", "GROUPE", "QUOTIDIEN"] = Field(
        "GROUPE",
        description="How flow-rejection and invoice notices are mailed unless a user chose: "
                    "IMMEDIAT (one each), GROUPE (one per window) or QUOTIDIEN (daily)",
    )
    notice_digest_seconds: float = Field(
        180.0, gt=0,
        description="Grouped flow-rejection and invoice notices (the default): one mail per "
                    "recipient and this many seconds",
    )
    daily_digest_hour: int = Field(
        8, ge=0, le=23, description="Hour (local time) of the daily summary of grouped notices",
    )
    timezone: str = Field(
        "Europe/Paris", description="Time zone of the hours written in grouped notices",
    )
    read_model_wait: float = Field(
        10.0, ge=0,
        description="Before choosing recipients, wait up to this long for read models to catch up",
    )
