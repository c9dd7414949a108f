"""What the signed-in person manages, as identity tells it (`GET /v1/me/approbations`): the
structures whose gestionnaire principal they are or where they hold « Organisation » in
modification (all of it, or some services), and how many rattachement requests wait for them.

Every page's menu depends on it (Approbations and its badge, Raccordements) and the structure
pages' tabs (Utilisateurs, Raccordements): it is kept per session for a few seconds rather than
asked at every page, and forgotten when the person's own action changes it. The services still
decide every call: this only decides what the pages show."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KEEP_SECONDS = 20.0
# When identity cannot tell, the menu goes without the gestionnaires' entries for this long
# rather than every page waiting for it again.
UNKNOWN_KEEP_SECONDS = 5.0
MENU_CALL_TIMEOUT_SECONDS = 2.0
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Managed:
    identifiant: str
    raison_sociale: str
    services: tuple[str, ...] | None  # None: the whole structure
    gestionnaire_principal: bool

    @property
    def whole(self) -> bool:
        return self.services is None


@dataclass(frozen=True)
class Management:
    structures: dict[str, Managed] = field(default_factory=dict)
    waiting: int = 0
    # False: identity did not answer; the menu goes without, a page deciding access asks again
    known: bool = True

    @classmethod
    def of(cls, answer: dict[str, Any] | None) -> Management:
        answer = answer or {}
        structures = {}
        for item in answer.get("structures") or []:
            if not isinstance(item, dict) or not item.get("identifiant"):
                continue
            services = item.get("services")
            structures[item["identifiant"]] = Managed(
                item["identifiant"], item.get("raisonSociale") or item["identifiant"],
                tuple(services) if isinstance(services, list) else None,
                bool(item.get("gestionnairePrincipal")))
        return cls(structures, int(answer.get("enAttente") or 0))

    @property
    def manages_any(self) -> bool:
        return bool(self.structures)

    @property
    def whole_structures(self) -> list[Managed]:
        return [m for m in self.structures.values() if m.whole]

    def of_structure(self, identifiant: str) -> Managed | None:
        return self.structures.get(identifiant)

    def manages(self, identifiant: str) -> bool:
        return identifiant in self.structures

    def manages_whole(self, identifiant: str) -> bool:
        found = self.structures.get(identifiant)
        return found is not None and found.whole

    def is_gestionnaire_principal(self, identifiant: str) -> bool:
        found = self.structures.get(identifiant)
        return found is not None and found.gestionnaire_principal


class ManagementCache:
    """Per session id, for KEEP_SECONDS; bounded (least recently stored forgotten first)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 keep: float = KEEP_SECONDS, size: int = MAX_SESSIONS):
        self._clock, self._keep, self._size = clock, keep, size
        self._known: OrderedDict[str, tuple[float, Management]] = OrderedDict()

    def get(self, session_id: str) -> Management | None:
        found = self._known.get(session_id)
        if found is None or found[0] < self._clock():
            return None
        return found[1]

    def put(self, session_id: str, management: Management, keep: float | None = None) -> None:
        self._known.pop(session_id, None)
        self._known[session_id] = (self._clock() + (self._keep if keep is None else keep),
                                   management)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    def forget(self, session_id: str) -> None:
        self._known.pop(session_id, None)
