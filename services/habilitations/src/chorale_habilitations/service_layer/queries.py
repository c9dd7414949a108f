"""Reads: « Mes habilitations », a structure's grants for its administrators, and decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain.listing import row
from chorale_habilitations.service_layer.context import Context
from chorale_runtime.auth import Principal
from chorale_runtime.authz import AccessRequest, Decision
from chorale_runtime.errors import ApiError


@dataclass(frozen=True)
class GrantFilter:
    structure: str | None = None
    user_id: str | None = None
    application: Application | None = None
    code_service: str | None = None
    mode: Mode | None = None

    def criteria(self) -> dict[str, Any]:
        return {
            "structure": self.structure, "userId": self.user_id,
            "application": self.application.value if self.application else None,
            "codeService": self.code_service, "mode": self.mode.value if self.mode else None,
        }


async def _rows(ctx: Context, wanted: GrantFilter) -> list[dict[str, Any]]:
    docs = await ctx.grants.active(**wanted.criteria())
    names = await ctx.directory.names({d["structure"] for d in docs})
    return [row(d, names) for d in docs]


async def mine(ctx: Context, principal: Principal, wanted: GrantFilter) -> list[dict[str, Any]]:
    if principal.is_technical:
        raise ApiError("FORBIDDEN", "Un compte technique ne détient pas d'habilitations.", 403,
                       {"raison": "TECHNICAL_ACCOUNT"})
    return await _rows(ctx, GrantFilter(wanted.structure, principal.subject, wanted.application,
                                        wanted.code_service, wanted.mode))


async def of_structure(
    ctx: Context, principal: Principal, structure: str, wanted: GrantFilter
) -> list[dict[str, Any]]:
    """Readable with « Organisation » in consultation there (or as GP, or operator); with a
    `codeService`, a service-level holder sees that service's grants."""
    await ctx.require_reader(principal, structure, wanted.code_service)
    return await _rows(ctx, GrantFilter(structure, wanted.user_id, wanted.application,
                                        wanted.code_service, wanted.mode))


async def decision(
    ctx: Context, principal: Principal, user_id: str, request: AccessRequest
) -> Decision:
    """The shared rule, for any user. Asked by operators, by the user themself, or by whoever
    may read the structure's habilitations (at that service, if one is named)."""
    if principal.is_technical:
        raise ApiError("FORBIDDEN", "Un compte technique ne sert qu'au dépôt de flux.", 403,
                       {"raison": "TECHNICAL_ACCOUNT"})
    if not (principal.is_operator or principal.subject == user_id):
        await ctx.require_reader(principal, request.structure, request.code_service)
    return await ctx.authorizer.decide(Principal(user_id, "user"), request)
