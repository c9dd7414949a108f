from pathlib import Path

from pydantic import Field

from chorale_runtime.settings import ServiceSettings


class InvoicesSettings(ServiceSettings):
    service_name: str = "invoices"
    http_port: int = Field(8006, ge=1, le=65535)
    edi_root: Path | None = Field(
        None, description="EDI folder tree shared with the intake: CDAR files go to "
        "<edi_root>/<technical account>/out/ (none: API only)")
    intake_url: str = Field(
        "http://127.0.0.1:8004", description="Base URL of the intake, as this service reaches "
        "it (fetches the original file for the readable rendering)")
    intake_public_url: str | None = Field(
        None, description="Base URL of the intake as people and partners reach it (links to "
        "the original file and the flow's compte rendu; none: intake_url)")
    attachment_max_bytes: int = Field(
        4 * 1024 * 1024, ge=1, description="Largest attachment a supplier may add (bytes)")
    attachment_max_count: int = Field(
        10, ge=1, le=100, description="Attachments per completion")
