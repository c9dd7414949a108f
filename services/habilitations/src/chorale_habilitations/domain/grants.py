"""A grant: a profile (application × mode) given to a user on a structure, or on one of its
services. Its identity is (user, structure, service, application): at most one mode at a time,
and its id is derived from that identity, so two concurrent additions collide on one `_id`.

A revoked grant is kept (inactive) with its version: a later grant of the same profile continues
the same version sequence, which is what consumers order its events by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from chorale_contracts.events.common import Application, Mode
from chorale_contracts.events.habilitations import (
    GrantReason,
    HabilitationChanged,
    HabilitationGranted,
    HabilitationRevoked,
)
from chorale_contracts.registry import EventPayload


@dataclass(frozen=True)
class GrantKey:
    user_id: str
    structure: str
    code_service: str | None
    application: Application

    @property
    def grant_id(self) -> str:
        parts = [self.user_id, self.structure, self.code_service or "", Application(
            self.application).value]
        return "hab-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def at(self, application: Application) -> GrantKey:
        return replace(self, application=application)


@dataclass(frozen=True)
class GrantState:
    key: GrantKey
    mode: Mode
    active: bool
    reason: GrantReason
    actor: str | None
    version: int

    @property
    def grant_id(self) -> str:
        return self.key.grant_id


class ChangeKind(StrEnum):
    GRANTED = "GRANTED"
    CHANGED = "CHANGED"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class GrantChange:
    """One step of a grant's life: the state before (None if never stored) and after."""

    before: GrantState | None
    after: GrantState
    kind: ChangeKind

    def payload(self) -> EventPayload:
        a = self.after
        fields = dict(
            grantId=a.grant_id, userId=a.key.user_id, structure=a.key.structure,
            codeService=a.key.code_service, application=a.key.application, mode=a.mode,
            reason=a.reason, actor=a.actor, version=a.version,
        )
        if self.kind is ChangeKind.GRANTED:
            return HabilitationGranted(**fields)
        if self.kind is ChangeKind.CHANGED:
            assert self.before is not None
            return HabilitationChanged(**fields, previousMode=self.before.mode)
        return HabilitationRevoked(**fields)


def give(
    current: GrantState | None, key: GrantKey, mode: Mode, reason: GrantReason, actor: str | None
) -> GrantChange | None:
    """The grant at `mode` (granted, or its mode changed); None if it is already so."""
    mode = Mode(mode)
    if current is not None and current.active:
        if current.mode is mode:
            return None
        after = replace(current, mode=mode, reason=reason, actor=actor,
                        version=current.version + 1)
        return GrantChange(current, after, ChangeKind.CHANGED)
    version = current.version + 1 if current is not None else 1
    after = GrantState(key, mode, True, reason, actor, version)
    return GrantChange(current, after, ChangeKind.GRANTED)


def take_back(
    current: GrantState | None, reason: GrantReason, actor: str | None
) -> GrantChange | None:
    """The grant revoked; None if there is no active grant."""
    if current is None or not current.active:
        return None
    after = replace(current, active=False, reason=reason, actor=actor,
                    version=current.version + 1)
    return GrantChange(current, after, ChangeKind.REVOKED)
