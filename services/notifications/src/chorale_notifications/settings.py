from pydantic import Field

from chorale_runtime.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = Field(8005, ge=1, le=65535)
