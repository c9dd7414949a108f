"""Who is told (DESIGN.md §6 "Notifications"), decided from the notifications service's own
read model of one structure: its gestionnaire principal, its grants and its attached users."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chorale_contracts.events.common import Application, Mode


@dataclass(frozen=True)
class GrantView:
    user_id: str
    application: str
    mode: str
    code_service: str | None = None

    def at_level(self, code_service: str | None) -> bool:
        """A structure-level grant covers every service; a service-level one only its own."""
        return self.code_service is None or (
            code_service is not None and self.code_service == code_service
        )


def live_grants(grants: Mapping[str, Mapping[str, Any]]) -> list[GrantView]:
    return [
        GrantView(g["userId"], g["application"], g["mode"], g.get("codeService"))
        for g in grants.values()
        if not g.get("revoked")
    ]


def gestionnaires(
    gp: str | None, grants: Iterable[GrantView], code_service: str | None
) -> set[str]:
    """The GP plus the holders of Organisation/modification at that level (structure, or the
    structure and the requested service)."""
    out = {gp} if gp else set()
    out.update(
        g.user_id for g in grants
        if g.application == Application.ORGANISATION and g.mode == Mode.MODIFICATION
        and g.at_level(code_service)
    )
    return out


def invoice_readers(grants: Iterable[GrantView], code_service: str | None) -> set[str]:
    """Holders of "Factures reçues" (any mode) on the structure, or on the invoice's service."""
    return {
        g.user_id for g in grants
        if g.application == Application.FACTURES_RECUES and g.at_level(code_service)
    }


def invoice_issuers(grants: Iterable[GrantView]) -> set[str]:
    """Holders of "Factures émises" (any mode) on the supplier structure."""
    return {g.user_id for g in grants if g.application == Application.FACTURES_EMISES}


def attached_users(gp: str | None, members: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Users attached to the structure (any of its services), and its GP."""
    out = {m["userId"] for m in members.values() if m.get("active")}
    if gp:
        out.add(gp)
    return out
