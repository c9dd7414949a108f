from pathlib import Path

from pydantic import Field

from chorale_runtime.settings import ServiceSettings


class StructuresSettings(ServiceSettings):
    service_name: str = "structures"
    http_port: int = Field(8001, ge=1, le=65535)
    import_dir: Path = Field(
        Path("var/structures/imports"),
        description="Folder where uploaded import files wait for (and during) processing",
    )
    import_batch_size: int = Field(
        2000, ge=1, le=10000, description="Import lines applied per database round trip"
    )
    import_max_bytes: int = Field(
        512 * 1024 * 1024, ge=1, description="Largest import file accepted (bytes)"
    )
    import_max_reported_rejections: int = Field(
        1000, ge=0, description="Rejected lines detailed in an import report (all are counted)"
    )
    export_batch_size: int = Field(
        500, ge=1, description="Structures read per round trip when exporting the directory"
    )
