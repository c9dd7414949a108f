"""Who may do what on a structure, behind one interface (the runtime's Authorizer):

- operators act on every structure;
- the gestionnaire principal and holders of « Organisation » in modification act on their
  structure (a service-level grant covers that service's own operations only);
- holders of « Organisation » in consultation may read;
- technical accounts only deposit flows: refused here; anyone else: 403.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chorale_contracts.events.common import Application, Mode
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer, AuthzReadModel, Grant
from chorale_runtime.authz.read_model import GESTIONNAIRES
from chorale_runtime.errors import ApiError


def technical_refused() -> ApiError:
    return ApiError(
        "FORBIDDEN", "Un compte technique ne sert qu'au dépôt de flux.", 403,
        {"raison": "TECHNICAL_ACCOUNT"},
    )


class _TypedGrants:
    """The runtime's read model returns grants whose mode and application are plain strings,
    and its decision rule compares modes by identity (``grant.mode is Mode.MODIFICATION``),
    so a modification grant would read as consultation only. Hand it enum members.
    (To drop once chorale_runtime.authz.read_model builds its Grants with the enums.)"""

    def __init__(self, model: AuthzReadModel):
        self._model = model

    async def user(self, user_id: str) -> tuple[list[Grant], bool]:
        grants, deactivated = await self._model.user(user_id)
        typed = [
            replace(g, application=Application(g.application), mode=Mode(g.mode))
            for g in grants
        ]
        return typed, deactivated

    async def gestionnaire_principal(self, structure: str) -> str | None:
        return await self._model.gestionnaire_principal(structure)


class Access:
    def __init__(self, db: Any):
        """Call after ``runtime.enable_authorization()``, which feeds the read model."""
        self._grants = _TypedGrants(AuthzReadModel(db))
        self._authorizer = Authorizer(self._grants)
        self._gestionnaires = db[GESTIONNAIRES]

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
        grants, deactivated = await self._grants.user(principal.subject)
        if deactivated:
            return frozenset()
        visible = {
            g.structure for g in grants
            if g.application == Application.ORGANISATION and g.code_service is None
        }
        async for doc in self._gestionnaires.find({"userId": principal.subject}, {"_id": 1}):
            visible.add(doc["_id"])
        return frozenset(visible)
