"""Rules of « Gérer les habilitations des utilisateurs » (DESIGN.md §6, the webinar's
"Modifier les habilitations d'un utilisateur"), beyond who may administer (that is the shared
decision: the structure's GP, or « Organisation » in MODIFICATION on the structure — or on the
service, for that service only — or an operator):

- a grant is only given where the user is attached (see `attachments.py`), never to a
  deactivated account;
- nobody raises their own grants (adding one, or consultation → modification);
- the gestionnaire principal's structure-level grants follow the role and are not edited by hand
  (the role itself is transferred in identity, by the GP only);
- consultation never modifies: reading needs « Organisation » in consultation, every change
  needs it in modification.
"""

from __future__ import annotations

from chorale_contracts.events.common import Mode
from chorale_habilitations.domain import errors
from chorale_habilitations.domain.attachments import Membership
from chorale_habilitations.domain.catalogue import rank
from chorale_habilitations.domain.grants import GrantKey


def check_grantable(membership: Membership, key: GrantKey) -> None:
    if membership.deactivated:
        raise errors.user_deactivated(key.user_id)
    if not membership.backs(key.structure, key.code_service):
        raise errors.not_attached(key.user_id, key.structure, key.code_service)


def check_not_self_raise(
    actor: str, key: GrantKey, before: Mode | None, after: Mode | None
) -> None:
    if actor == key.user_id and rank(after) > rank(before):
        raise errors.self_elevation()


def check_not_gestionnaire_grant(key: GrantKey, gestionnaire: str | None) -> None:
    if gestionnaire is not None and key.user_id == gestionnaire and key.code_service is None:
        raise errors.gestionnaire_protected(key.user_id, key.structure)
