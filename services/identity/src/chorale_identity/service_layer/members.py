"""« Utilisateurs » of a structure: the people attached to it (valid rattachements), as its
gestionnaires see them to manage their habilitations or hand the GP role over. A holder of
« Organisation » modification on one service sees the people attached to that service."""

from __future__ import annotations

from typing import Any

from chorale_identity.domain.rattachements import RattachementStatus, normalise_identifiant
from chorale_identity.service_layer import errors
from chorale_identity.service_layer.approbations import managed_part
from chorale_identity.service_layer.context import IdentityContext
from chorale_runtime.auth import Principal


async def members(
    ctx: IdentityContext, principal: Principal, structure: str
) -> list[dict[str, Any]]:
    identifiant = normalise_identifiant(structure)
    if await ctx.structures.get(identifiant) is None:
        raise errors.structure_not_found(identifiant)
    found = [
        r for r in await ctx.rattachements.of_structure(identifiant)
        if r.status is RattachementStatus.VALIDEE
    ]
    found = await managed_part(ctx, principal, identifiant, found)
    gp = await ctx.gestionnaires.user_of(identifiant)
    people = await ctx.accounts.many(r.user_id for r in found)
    by_user: dict[str, dict[str, Any]] = {}
    for r in sorted(found, key=lambda r: (r.code_service or "", r.created_at)):
        account = people.get(r.user_id)
        member = by_user.setdefault(r.user_id, {
            "userId": r.user_id,
            "prenom": account.prenom if account else None,
            "nom": account.nom if account else None,
            "email": account.login_email if account else None,
            "statut": account.status.value if account else None,
            "gestionnairePrincipal": r.user_id == gp,
            "rattachements": [],
        })
        member["rattachements"].append({
            "id": r.id, "codeService": r.code_service,
            "depuis": (r.decided_at or r.created_at).isoformat(),
        })
    return sorted(by_user.values(), key=lambda m: (
        not m["gestionnairePrincipal"], (m["nom"] or "").casefold(), (m["prenom"] or "").casefold()
    ))
