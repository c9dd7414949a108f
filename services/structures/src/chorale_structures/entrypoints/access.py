"""Who may do what on a structure, behind one interface (the runtime's Authorizer):

- operators act on every structure;
- the gestionnaire principal and holders of « Organisation » in modification act on their
  structure (a service-level grant covers that service's own operations only);
- holders of « Organisation » in consultation may read;
- technical accounts only deposit flows: refused here; anyone else: 403.
"""

from __future__ import annotations

from chorale_contracts.events.common import Application, Mode
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer
from chorale_runtime.errors import ApiError


def technical_refused() -> ApiError:
    return ApiError(
        "FORBIDDEN", "Un compte technique ne sert qu'au dépôt de flux.", 403,
        {"raison": "TECHNICAL_ACCOUNT"},
    )


class Access:
    def __init__(self, authorizer: Authorizer):
        """`authorizer`: the one `runtime.enable_authorization()` returns."""
        self._authorizer = authorizer

    @staticmethod
    def user(principal: Principal) -> None:
        """Any signed-in person (user or operator), not a technical account."""
        if principal.is_technical:
            raise technical_refused()

    async def operator(self, principal: Principal) -> None:
        await self._authorizer.require_operator(principal)

    async def read(self, principal: Principal, identifiant: str, code_service: str | None = None):
        await self._authorizer.require(
            principal, identifiant, Application.ORGANISATION, Mode.CONSULTATION, code_service
        )

    async def write(
        self, principal: Principal, identifiant: str, code_service: str | None = None
    ) -> None:
        await self._authorizer.require(
            principal, identifiant, Application.ORGANISATION, Mode.MODIFICATION, code_service
        )

    async def visible_structures(self, principal: Principal) -> frozenset[str] | None:
        """The structures a search may show: None = all (operators)."""
        self.user(principal)
        if principal.is_operator:
            return None
        grants, deactivated = await self._authorizer.grants_of(principal.subject)
        if deactivated:
            return frozenset()
        visible = {
            g.structure for g in grants
            if g.application == Application.ORGANISATION and g.code_service is None
        }
        visible.update(await self._authorizer.structures_of_gestionnaire(principal.subject))
        return frozenset(visible)
