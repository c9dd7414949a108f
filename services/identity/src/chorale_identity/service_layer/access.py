"""Who may manage a structure's people and technical accounts: its gestionnaire principal and
holders of « Organisation » in MODIFICATION (a service-level holder for that service only),
decided by the runtime's rule. In the service, ``runtime.enable_authorization`` is given
identity's own GP records (the authority) and keeps the read model of habilitation events
for grants."""

from __future__ import annotations

from chorale_contracts.events.common import Application, Mode
from chorale_identity.adapters.gestionnaires import GestionnaireRepository
from chorale_runtime.auth import Principal
from chorale_runtime.authz import AccessRequest, Authorizer, Grant


class GestionnairesOnly:
    """Outside the running service (admin command, benchmarks), where no habilitation events
    are consumed: nobody holds a grant, only GPs and operators are allowed."""

    def __init__(self, gestionnaires: GestionnaireRepository):
        self._gestionnaires = gestionnaires

    async def user(self, _user_id: str) -> tuple[list[Grant], bool]:
        return [], False

    async def gestionnaire_principal(self, structure: str) -> str | None:
        return await self._gestionnaires.user_of(structure)

    async def structures_of_gestionnaire(self, user_id: str) -> list[str]:
        return await self._gestionnaires.structures_of(user_id)


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
