"""What HTTP handlers call: `await authorizer.require(principal, structure, application, mode)`."""

from __future__ import annotations

from typing import Protocol

from chorale_contracts.events.common import Application, Mode
from chorale_runtime.auth import Principal
from chorale_runtime.authz.decision import AccessRequest, Decision, Grant, decide
from chorale_runtime.errors import ApiError
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class GrantSource(Protocol):
    async def user(self, user_id: str) -> tuple[list[Grant], bool]: ...

    async def gestionnaire_principal(self, structure: str) -> str | None: ...

    async def structures_of_gestionnaire(self, user_id: str) -> list[str]: ...


class Authorizer:
    def __init__(self, source: GrantSource):
        self._source = source

    async def decide(self, principal: Principal, request: AccessRequest) -> Decision:
        if principal.is_operator or principal.is_technical:
            return decide(principal, request, grants=(), is_gestionnaire_principal=False)
        grants, deactivated = await self._source.user(principal.subject)
        gp = await self._source.gestionnaire_principal(request.structure)
        return decide(
            principal, request, grants=grants, deactivated=deactivated,
            is_gestionnaire_principal=(gp == principal.subject),
        )

    async def require(
        self,
        principal: Principal,
        structure: str,
        application: Application,
        mode: Mode,
        code_service: str | None = None,
    ) -> Decision:
        request = AccessRequest(structure, application, mode, code_service)
        decision = await self.decide(principal, request)
        if not decision.allowed:
            log.info("access_denied", subject=principal.subject, structure=structure,
                     application=application.value, mode=mode.value, reason=decision.reason)
            raise ApiError("FORBIDDEN", decision.message, 403, {"raison": decision.reason})
        return decision

    async def is_gestionnaire_principal(self, principal: Principal, structure: str) -> bool:
        return await self._source.gestionnaire_principal(structure) == principal.subject

    async def grants_of(self, user_id: str) -> tuple[list[Grant], bool]:
        """The user's grants as the read model knows them, and whether they are deactivated."""
        return await self._source.user(user_id)

    async def gestionnaire_principal(self, structure: str) -> str | None:
        """The structure's GP as the read model knows it (None if none yet)."""
        return await self._source.gestionnaire_principal(structure)

    async def structures_of_gestionnaire(self, user_id: str) -> list[str]:
        """The structures whose GP the user is, as the read model knows them."""
        return await self._source.structures_of_gestionnaire(user_id)

    async def require_operator(self, principal: Principal) -> None:
        if not principal.is_operator:
            raise ApiError("FORBIDDEN", "Action réservée aux opérateurs de la plateforme.", 403,
                           {"raison": "OPERATOR_ONLY"})
