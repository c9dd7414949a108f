"""What identity's events do to grants, as per-grant intents: each takes the grant's current
state (None if it never existed) and returns the change to store, or None. Applied one grant at
a time with compare-and-set, so replays and concurrent administration converge.

- Approved rattachement: CONSULTATION on every application at the attached level (structure,
  or the service), reason DEFAULT, wherever the user holds no active grant yet (an existing
  grant, e.g. the GP's MODIFICATION, is never lowered).
- New gestionnaire principal (designated or transferred to): MODIFICATION on every application
  at structure level, reason GESTIONNAIRE_PRINCIPAL; a grant already in MODIFICATION is left as
  it is (and keeps its reason).
- Former gestionnaire principal: each structure-level grant still carrying the reason
  GESTIONNAIRE_PRINCIPAL (i.e. raised by the role and not changed by hand since) falls back to
  CONSULTATION, reason DEFAULT — the profile of a simple user — if they are still attached to the
  structure itself; otherwise it is revoked (RATTACHEMENT_ENDED). Grants given by hand stay.
- Rattachement ended: every grant of the user on that structure that no remaining VALIDEE
  rattachement backs is revoked, reason RATTACHEMENT_ENDED (a structure-level detachment thus
  takes the structure-level grants and those of every service the user is not attached to on
  its own).
- Account deactivated: every grant of the user revoked, reason RATTACHEMENT_ENDED.
"""

from __future__ import annotations

from collections.abc import Callable

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain.attachments import Membership
from chorale_habilitations.domain.grants import GrantChange, GrantKey, GrantState, give, take_back

Intent = Callable[[GrantState | None], GrantChange | None]


def every_application(user_id: str, structure: str, code_service: str | None) -> list[GrantKey]:
    return [GrantKey(user_id, structure, code_service, app) for app in Application]


def default_profile(key: GrantKey, actor: str | None) -> Intent:
    def intent(current: GrantState | None) -> GrantChange | None:
        if current is not None and current.active:
            return None
        return give(current, key, Mode.CONSULTATION, "DEFAULT", actor)

    return intent


def gestionnaire_profile(key: GrantKey, actor: str | None) -> Intent:
    def intent(current: GrantState | None) -> GrantChange | None:
        if current is not None and current.active and current.mode is Mode.MODIFICATION:
            return None
        return give(current, key, Mode.MODIFICATION, "GESTIONNAIRE_PRINCIPAL", actor)

    return intent


def former_gestionnaire_profile(
    key: GrantKey, still_attached: bool, actor: str | None
) -> Intent:
    def intent(current: GrantState | None) -> GrantChange | None:
        if current is None or not current.active or current.reason != "GESTIONNAIRE_PRINCIPAL":
            return None
        if still_attached:
            return give(current, key, Mode.CONSULTATION, "DEFAULT", actor)
        return take_back(current, "RATTACHEMENT_ENDED", actor)

    return intent


def end_if_unbacked(membership: Membership, actor: str | None) -> Intent:
    def intent(current: GrantState | None) -> GrantChange | None:
        if current is None or membership.backs(current.key.structure, current.key.code_service):
            return None
        return take_back(current, "RATTACHEMENT_ENDED", actor)

    return intent


def end(actor: str | None) -> Intent:
    def intent(current: GrantState | None) -> GrantChange | None:
        return take_back(current, "RATTACHEMENT_ENDED", actor)

    return intent
