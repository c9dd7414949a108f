"""Who may manage a structure's people and technical accounts: its gestionnaire principal and
holders of « Organisation » in MODIFICATION (a service-level holder for that service only),
decided by the runtime's rule. Identity's own GP store answers the GP question (it is the
authority), the runtime's read model of habilitation events answers the grants question."""

from __future__ import annotations

from chorale_contracts.events.common import Application, Mode
from chorale_identity.adapters.gestionnaires import GestionnaireRepository
from chorale_runtime.auth import Principal
from chorale_runtime.authz import AccessRequest, Authorizer, AuthzReadModel, Grant


class IdentityGrantSource:
    """The ``GrantSource`` of identity's ``Authorizer``."""

    def __init__(self, grants: AuthzReadModel, gestionnaires: GestionnaireRepository):
        self._grants = grants
        self._gestionnaires = gestionnaires

    async def user(self, user_id: str) -> tuple[list[Grant], bool]:
        return await self._grants.user(user_id)

    async def gestionnaire_principal(self, structure: str) -> str | None:
        return await self._gestionnaires.user_of(structure)


async def require_gestionnaire(
    authorizer: Authorizer, principal: Principal, structure: str, code_service: str | None = None
) -> None:
    await authorizer.require(
        principal, structure, Application.ORGANISATION, Mode.MODIFICATION, code_service
    )


async def may_manage(
    authorizer: Authorizer, principal: Principal, structure: str, code_service: str | None = None
) -> bool:
    request = AccessRequest(structure, Application.ORGANISATION, Mode.MODIFICATION, code_service)
    return (await authorizer.decide(principal, request)).allowed
