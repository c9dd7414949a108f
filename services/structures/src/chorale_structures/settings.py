from pydantic import Field

from chorale_runtime.settings import ServiceSettings


class StructuresSettings(ServiceSettings):
    service_name: str = "structures"
    http_port: int = Field(8001, ge=1, le=65535)
