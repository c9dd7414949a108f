"""« Gérer les habilitations des utilisateurs »: add a profile, change its mode, remove one,
remove all of a user's on a structure (rules in `domain/administration.py`)."""

from __future__ import annotations

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain import errors
from chorale_habilitations.domain.administration import (
    check_grantable,
    check_not_gestionnaire_grant,
    check_not_self_raise,
)
from chorale_habilitations.domain.grants import GrantChange, GrantKey, GrantState, give, take_back
from chorale_habilitations.service_layer.context import Context
from chorale_habilitations.service_layer.writer import Cause
from chorale_runtime.auth import Principal


async def add(
    ctx: Context, principal: Principal, structure: str, user_id: str,
    application: Application, mode: Mode, code_service: str | None, cause: Cause,
) -> GrantChange:
    key = GrantKey(user_id, structure, code_service or None, Application(application))
    await ctx.require_admin(principal, structure, key.code_service)
    check_grantable(await ctx.memberships.get(user_id), key)
    check_not_gestionnaire_grant(key, await ctx.gestionnaire(structure))

    def intent(current: GrantState | None) -> GrantChange | None:
        if current is not None and current.active:
            raise errors.already_granted(key.grant_id, current.mode)
        check_not_self_raise(principal.subject, key, None, mode)
        return give(current, key, mode, "MANUAL", principal.subject)

    change = await ctx.writer.apply(key, intent, cause)
    assert change is not None
    return change


async def _held(ctx: Context, principal: Principal, grant_id: str) -> GrantState:
    """The active grant, once the caller is known to administer where it lies."""
    current = await ctx.grants.get(grant_id)
    if current is None or not current.active:
        raise errors.not_found(grant_id)
    await ctx.require_admin(principal, current.key.structure, current.key.code_service)
    check_not_gestionnaire_grant(current.key, await ctx.gestionnaire(current.key.structure))
    return current


def _still(grant_id: str, expected_version: int | None, current: GrantState | None) -> GrantState:
    """The grant as the intent finds it: still active, and at the version the caller saw."""
    if current is None or not current.active:
        raise errors.not_found(grant_id)
    if expected_version is not None and current.version != expected_version:
        raise errors.conflict(grant_id)
    return current


async def change_mode(
    ctx: Context, principal: Principal, grant_id: str, mode: Mode, expected_version: int | None,
    cause: Cause,
) -> GrantState:
    held = await _held(ctx, principal, grant_id)

    def intent(current: GrantState | None) -> GrantChange | None:
        current = _still(grant_id, expected_version, current)
        check_not_self_raise(principal.subject, current.key, current.mode, mode)
        return give(current, current.key, mode, "MANUAL", principal.subject)

    change = await ctx.writer.apply(held.key, intent, cause)
    return change.after if change else held


async def remove(
    ctx: Context, principal: Principal, grant_id: str, expected_version: int | None,
    cause: Cause,
) -> GrantState:
    held = await _held(ctx, principal, grant_id)

    def intent(current: GrantState | None) -> GrantChange | None:
        current = _still(grant_id, expected_version, current)
        return take_back(current, "MANUAL", principal.subject)

    change = await ctx.writer.apply(held.key, intent, cause)
    assert change is not None
    return change.after


async def remove_all(
    ctx: Context, principal: Principal, structure: str, user_id: str, code_service: str | None,
    cause: Cause,
) -> list[GrantState]:
    """Every grant of the user on the structure (all levels), or on one service only."""
    await ctx.require_admin(principal, structure, code_service)
    held = await ctx.grants.active_states(userId=user_id, structure=structure,
                                          codeService=code_service)
    gestionnaire = await ctx.gestionnaire(structure)
    for grant in held:
        check_not_gestionnaire_grant(grant.key, gestionnaire)
    changes = await ctx.writer.apply_each(
        [g.key for g in held],
        lambda _key: lambda current: take_back(current, "MANUAL", principal.subject), cause,
    )
    return [c.after for c in changes]
