"""The registry of Chorale's services: one entry per service, read by everything that lists
them (`make up` in deploy/stack.py, the end-to-end stack in `chorale_cli.journey.stack`, the
CLI's `config` and default URLs, the README's configuration table, and the generated
Prometheus targets and docker-compose service blocks: `make docs`).

Adding a service = one entry here + its folder under `services/` (checklist in
docs/SERVICE_GUIDE.md). A test fails when a folder under `services/` has no entry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    """`service_name` of its settings: topic consumer groups, logs, metrics' `service` label."""
    module: str
    """Python package: `python -m <module>` runs it."""
    settings: str
    """Name of its settings class in `<module>.settings`."""
    port: int
    """Default API port (`CHORALE_HTTP_PORT`); its operations listener is on port + 100."""
    url_setting: str
    """The setting other services read its base URL from (e.g. `CHORALE_STRUCTURES_URL`)."""
    folder: str
    """Its folder under `services/`."""
    package: str
    """Its distribution name in the uv workspace (what the Docker image installs)."""
    operations: bool = True
    """Built on the runtime: a JSON API (with `/docs`, checked by tests/test_api_docs.py) and an
    operations listener (`/metrics`, detailed `/ready`) that Prometheus scrapes. The portal
    serves pages and has neither."""
    end_to_end: bool = True
    """Started by `running_stack` in every end-to-end test (the portal only when asked for)."""

    @property
    def settings_path(self) -> str:
        return f"{self.module}.settings.{self.settings}"

    @property
    def local_url(self) -> str:
        """Its base URL on a development machine (`make up`): 127.0.0.1 and its default port."""
        return f"http://127.0.0.1:{self.port}"

    def settings_class(self) -> type:
        return getattr(importlib.import_module(f"{self.module}.settings"), self.settings)


SERVICES: dict[str, ServiceInfo] = {
    s.name: s
    for s in (
        ServiceInfo("structures", "chorale_structures", "StructuresSettings", 8001,
                    "CHORALE_STRUCTURES_URL", "structures", "chorale-structures"),
        ServiceInfo("identity", "chorale_identity", "IdentitySettings", 8002,
                    "CHORALE_IDENTITY_URL", "identity", "chorale-identity"),
        ServiceInfo("habilitations", "chorale_habilitations", "HabilitationsSettings", 8003,
                    "CHORALE_HABILITATIONS_URL", "habilitations", "chorale-habilitations"),
        ServiceInfo("invoice-intake", "chorale_intake", "IntakeSettings", 8004,
                    "CHORALE_INTAKE_URL", "invoice-intake", "chorale-intake"),
        ServiceInfo("notifications", "chorale_notifications", "NotificationsSettings", 8005,
                    "CHORALE_NOTIFICATIONS_URL", "notifications", "chorale-notifications"),
        ServiceInfo("portal", "chorale_portal", "PortalSettings", 8080,
                    "CHORALE_PORTAL_URL", "portal", "chorale-portal",
                    operations=False, end_to_end=False),
        ServiceInfo("invoices", "chorale_invoices", "InvoicesSettings", 8006,
                    "CHORALE_INVOICES_URL", "invoices", "chorale-invoices"),
    )
}

#: Identity signs the tokens every other service checks (they fetch its keys at start).
KEY_ISSUER = "identity"


def in_start_order() -> list[ServiceInfo]:
    """Every service, identity first (the others fetch its signing keys when they start)."""
    return sorted(SERVICES.values(), key=lambda s: s.name != KEY_ISSUER)


def jwks_url(identity_base_url: str) -> str:
    """Where the services find identity's public signing keys (`CHORALE_JWKS_URL`)."""
    return f"{identity_base_url}/.well-known/jwks.json"
