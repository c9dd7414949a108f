"""What the use cases work with, wired once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.adapters.directory_store import DirectoryStore
from chorale_habilitations.adapters.grant_store import GrantStore
from chorale_habilitations.adapters.membership_store import MembershipStore
from chorale_habilitations.service_layer.writer import GrantWriter
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer


@dataclass(frozen=True)
class Context:
    grants: GrantStore
    writer: GrantWriter
    memberships: MembershipStore
    directory: DirectoryStore
    authorizer: Authorizer

    async def require_admin(
        self, principal: Principal, structure: str, code_service: str | None
    ) -> None:
        """The GP, « Organisation » in modification there, or an operator."""
        await self.authorizer.require(
            principal, structure, Application.ORGANISATION, Mode.MODIFICATION, code_service
        )

    async def require_reader(
        self, principal: Principal, structure: str, code_service: str | None
    ) -> None:
        await self.authorizer.require(
            principal, structure, Application.ORGANISATION, Mode.CONSULTATION, code_service
        )

    async def gestionnaire(self, structure: str) -> str | None:
        return await self.authorizer.gestionnaire_principal(structure)
