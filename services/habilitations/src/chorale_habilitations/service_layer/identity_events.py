"""Identity's events turned into grants (rules in `domain/policies.py`)."""

from __future__ import annotations

from collections.abc import Callable

from chorale_habilitations.adapters.membership_store import MembershipStore
from chorale_habilitations.domain import policies
from chorale_habilitations.domain.grants import GrantKey
from chorale_habilitations.service_layer.writer import Cause, GrantWriter


class IdentityEvents:
    def __init__(self, writer: GrantWriter, memberships: MembershipStore):
        self._writer = writer
        self._memberships = memberships

    async def _each(
        self, keys: list[GrantKey], intent_for: Callable[[GrantKey], policies.Intent],
        cause: Cause,
    ) -> int:
        return len(await self._writer.apply_each(keys, intent_for, cause))

    async def approved(
        self, user_id: str, rattachement_id: str, structure: str, code_service: str | None,
        actor: str | None, cause: Cause,
    ) -> int:
        await self._memberships.attached(user_id, rattachement_id, structure, code_service)
        if (await self._memberships.get(user_id)).deactivated:
            return 0  # a late approval of an account deactivated since
        keys = policies.every_application(user_id, structure, code_service)
        return await self._each(keys, lambda k: policies.default_profile(k, actor), cause)

    async def detached(
        self, user_id: str, rattachement_id: str, structure: str, code_service: str | None,
        actor: str | None, cause: Cause,
    ) -> int:
        await self._memberships.detached(user_id, rattachement_id, structure, code_service)
        intent = policies.end_if_unbacked(await self._memberships.get(user_id), actor)
        held = await self._writer.store.active_states(userId=user_id, structure=structure)
        return await self._each([g.key for g in held], lambda _k: intent, cause)

    async def gestionnaire_changed(
        self, structure: str, new_user: str, former_user: str | None, actor: str | None,
        cause: Cause,
    ) -> int:
        keys = policies.every_application(new_user, structure, None)
        count = await self._each(keys, lambda k: policies.gestionnaire_profile(k, actor), cause)
        if former_user and former_user != new_user:
            former = await self._memberships.get(former_user)
            # Revoke only when we know they left the structure; unknown = still attached.
            still = former.backs(structure, None) or not former.ever_attached(structure)
            keys = policies.every_application(former_user, structure, None)
            count += await self._each(
                keys, lambda k: policies.former_gestionnaire_profile(k, still, actor), cause
            )
        return count

    async def deactivated(self, user_id: str, cause: Cause) -> int:
        await self._memberships.deactivated(user_id)
        held = await self._writer.store.active_states(userId=user_id)
        intent = policies.end(None)
        return await self._each([g.key for g in held], lambda _k: intent, cause)
