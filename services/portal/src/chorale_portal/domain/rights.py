"""What a person may use in the portal, from their habilitations (`GET /v1/me/habilitations`
of the habilitations service) and their platform roles. Pure.

The services decide every access again (the portal is a client like any other): these rights
only choose which menu entries, buttons and pages a person is shown, so that nobody sees an
entry they cannot use, and a page typed by its address says « accès refusé » before asking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FACTURES_RECUES = "FACTURES_RECUES"
FACTURES_EMISES = "FACTURES_EMISES"
SUIVI_DES_FLUX = "SUIVI_DES_FLUX"
CONSULTATION, MODIFICATION = "CONSULTATION", "MODIFICATION"


@dataclass(frozen=True)
class Grants:
    """One application on one structure: the mode held at the structure level (None: none),
    and the modes held on some of its services."""

    structure: str
    name: str | None = None
    whole: str | None = None
    services: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.structure})" if self.name else self.structure

    def reads(self, service: str | None = None) -> bool:
        """May read the structure's items (`service`: one of that service)."""
        if self.whole is not None:
            return True
        return bool(self.services) if service is None else service in self.services

    def modifies(self, service: str | None = None) -> bool:
        """May act on an item of `service` (None: an item addressed to no service)."""
        if self.whole == MODIFICATION:
            return True
        return service is not None and self.services.get(service) == MODIFICATION

    def modifies_anything(self) -> bool:
        return self.whole == MODIFICATION or MODIFICATION in self.services.values()


@dataclass(frozen=True)
class Rights:
    operator: bool = False
    by_application: Mapping[str, Mapping[str, Grants]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]], roles: Iterable[str] | None = ()) -> Rights:
        """From the habilitation rows (structure, raisonSociale, codeService, application,
        mode): MODIFICATION wins over CONSULTATION at the same level."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for row in rows:
            application, structure = row.get("application"), row.get("structure")
            mode = row.get("mode")
            if not application or not structure or mode not in (CONSULTATION, MODIFICATION):
                continue
            entry = found.setdefault(application, {}).setdefault(
                structure, {"name": None, "whole": None, "services": {}})
            entry["name"] = entry["name"] or row.get("raisonSociale")
            service = row.get("codeService")
            if service:
                entry["services"][service] = _stronger(entry["services"].get(service), mode)
            else:
                entry["whole"] = _stronger(entry["whole"], mode)
        return cls(
            operator="operator" in set(roles or ()),
            by_application={
                app: {s: Grants(s, e["name"], e["whole"], dict(e["services"]))
                      for s, e in sorted(structures.items())}
                for app, structures in found.items()},
        )

    def structures(self, application: str) -> list[Grants]:
        return list(self.by_application.get(application, {}).values())

    def whole_structures(self, application: str) -> list[Grants]:
        """Where the application is held at the structure level: « Suivi des flux » and
        « Factures émises » are a structure's (the intake and the invoices service ask for
        that level; a grant on one of its services does not open them)."""
        return [g for g in self.structures(application) if g.whole is not None]

    def on(self, application: str, structure: str) -> Grants | None:
        return self.by_application.get(application, {}).get(structure)

    # -- the screens -------------------------------------------------------------------------
    @property
    def flows(self) -> bool:
        """« Suivi des flux »: the intake lists a partner's flows to the holders of the
        application on that structure, and every flow to operators."""
        return self.operator or bool(self.whole_structures(SUIVI_DES_FLUX))

    def flows_of(self, structure: str) -> bool:
        grants = self.on(SUIVI_DES_FLUX, structure)
        return self.operator or (grants is not None and grants.whole is not None)

    @property
    def received(self) -> bool:
        return bool(self.structures(FACTURES_RECUES))

    @property
    def issued(self) -> bool:
        return bool(self.whole_structures(FACTURES_EMISES))

    @property
    def deposits(self) -> bool:
        """« Déposer une facture »: the intake takes a person's deposit for a structure where
        they hold « Factures émises » in modification at the structure level."""
        return any(g.whole == MODIFICATION for g in self.whole_structures(FACTURES_EMISES))


def _stronger(held: str | None, mode: str) -> str:
    return MODIFICATION if MODIFICATION in (held, mode) else CONSULTATION
