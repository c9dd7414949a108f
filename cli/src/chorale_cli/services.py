"""The services the CLI knows: settings classes and default ports."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    settings_path: str
    port: int

    def settings_class(self) -> type:
        module, _, cls = self.settings_path.rpartition(".")
        return getattr(importlib.import_module(module), cls)


SERVICES: dict[str, ServiceInfo] = {
    s.name: s
    for s in (
        ServiceInfo("structures", "chorale_structures.settings.StructuresSettings", 8001),
        ServiceInfo("identity", "chorale_identity.settings.IdentitySettings", 8002),
        ServiceInfo("habilitations", "chorale_habilitations.settings.HabilitationsSettings", 8003),
        ServiceInfo("invoice-intake", "chorale_intake.settings.IntakeSettings", 8004),
        ServiceInfo("notifications", "chorale_notifications.settings.NotificationsSettings", 8005),
        ServiceInfo("portal", "chorale_portal.settings.PortalSettings", 8080),
        ServiceInfo("invoices", "chorale_invoices.settings.InvoicesSettings", 8006),
    )
}
