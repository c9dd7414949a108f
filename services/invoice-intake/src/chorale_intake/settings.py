"""Configuration of the invoice-intake service (environment variables `CHORALE_<FIELD>`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from chorale_intake.domain.business_rules import BrFrMode
from chorale_intake.domain.xml_safety import DEFAULT_MAX_BYTES, LIBXML2_MAX_DEPTH
from chorale_intake.domain.xsd import MAX_XSD_ERRORS
from chorale_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "invoice-intake"
    http_port: int = Field(8004, ge=1, le=65535)

    # -- EDI channel ------------------------------------------------------------------------
    edi_root: Path = Field(
        Path("var/edi"),
        description="EDI root: <root>/<technicalAccountId>/in/ receives files, out/ gets the CRs",
    )
    archive_dir: Path = Field(
        Path("var/archive"),
        description="Raw archive of every deposited file, named by flow number (same file "
        "system as the EDI root for atomic moves; copied with fsync otherwise)",
    )
    edi_scan_interval: float = Field(
        0.2, gt=0, le=60, description="Seconds between scans of idle EDI folders"
    )
    edi_settle_delay: float = Field(
        1.0,
        ge=0,
        description="A file written in place is taken once unmodified for this long (s); a file "
        "renamed into in/ after being written (temporary name, then rename) is taken at once",
    )
    cr_delay: float = Field(
        1.0,
        ge=0,
        le=10,
        description="A CR showing a non-terminal status is written this long after the change "
        "(s), unless a newer status replaces it meanwhile; terminal CRs are written at once",
    )
    edi_batch_size: int = Field(
        200, ge=1, le=1000, description="Files taken from one folder per round (one DB insert)"
    )

    # -- validation limits ----------------------------------------------------------------
    max_bytes: int = Field(
        DEFAULT_MAX_BYTES, ge=1, description="Largest flow accepted (bytes): FILE_TOO_LARGE above"
    )
    max_depth: int = Field(
        LIBXML2_MAX_DEPTH, ge=2, le=LIBXML2_MAX_DEPTH, description="Deepest XML nesting accepted"
    )
    max_xsd_errors: int = Field(
        MAX_XSD_ERRORS, ge=1, le=1000, description="XSD errors detailed in a CR (all counted)"
    )
    br_fr_mode: BrFrMode = Field(
        BrFrMode.WARNING,
        description="French business rules (FNFE BR-FR 1.4.0.02) after EN 16931: off (not "
        "run), warning (reported, never reject) or fatal (a fatal BR-FR finding rejects)",
    )
    api_max_request_bytes: int = Field(
        0,
        ge=0,
        description="Largest HTTP deposit read at all (bytes; 413 above); 0 = twice max_bytes. "
        "Between max_bytes and this, the flow is recorded and rejected with FILE_TOO_LARGE",
    )

    # -- processing ---------------------------------------------------------------------------
    worker_count: int = Field(
        1,
        ge=0,
        le=64,
        description="Processes that parse and validate XML (0: a thread of the service "
        "process); one per core but one is a good value",
    )
    batch_size: int = Field(
        128, ge=1, le=1000, description="Flows validated and written together (one DB write each)"
    )
    max_in_flight: int = Field(
        1000,
        ge=1,
        description="Flows received but not yet terminal held at once; EDI files wait in in/ "
        "and API deposits get 503 beyond it",
    )
    retry_max_attempts: int = Field(
        4, ge=1, description="Attempts at a flow hit by technical failures before IN_INCIDENTE"
    )
    retry_backoff: float = Field(0.5, ge=0, description="First retry delay (s), doubling")
    retry_backoff_max: float = Field(30.0, ge=0, description="Longest retry delay (s)")
    max_recoveries: int = Field(
        3,
        ge=1,
        description="Restarts a flow may survive unfinished before it is set IN_INCIDENTE "
        "(protects against a file that crashes the service)",
    )
    recovery_interval: float = Field(
        60.0, gt=0, description="Seconds between checks for flows another replica left behind"
    )
    stale_after: float = Field(
        300.0, gt=0, description="A flow unfinished for this long may be taken over (s)"
    )
    flow_list: Literal["memory", "database"] = Field(
        "memory",
        description="Suivi des flux: serve the list of terminal flows from memory (loaded at "
        "start-up, one process per database: FerretDB) or query the database with its indexes "
        "(replicas on MongoDB)",
    )
    timezone: str = Field(
        "Europe/Paris", description="Time zone of the deposit date used by the date rules"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _limits_are_consistent(self) -> IntakeSettings:
        if self.api_max_request_bytes and self.api_max_request_bytes < self.max_bytes:
            raise ValueError("api_max_request_bytes must be 0 or at least max_bytes")
        return self

    @property
    def request_limit(self) -> int:
        return self.api_max_request_bytes or 2 * self.max_bytes
