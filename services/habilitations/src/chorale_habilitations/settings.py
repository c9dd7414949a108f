from pydantic import Field

from chorale_runtime.settings import ServiceSettings


class HabilitationsSettings(ServiceSettings):
    service_name: str = "habilitations"
    http_port: int = Field(8003, ge=1, le=65535)
