"""The authorization rule, as one pure function shared by every service and by the
habilitations service's decision endpoint.

- Operators (back-office role) may act everywhere; they hold no structure role.
- Technical accounts only deposit flows; they are refused every other operation.
- The gestionnaire principal (GP) of a structure may do everything on that structure.
- Otherwise a grant is needed: a structure-level grant covers the structure and all its
  services; a service-level grant covers that service only, never the structure's others.
- MODIFICATION includes CONSULTATION; CONSULTATION never modifies.
- A deactivated user is refused everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chorale_contracts.events.common import APPLICATION_LABELS, Application, Mode
from chorale_runtime.auth import Principal


@dataclass(frozen=True)
class Grant:
    grant_id: str
    user_id: str
    structure: str
    application: Application
    mode: Mode
    code_service: str | None = None

    def covers(self, structure: str, code_service: str | None) -> bool:
        if self.structure != structure:
            return False
        return self.code_service is None or self.code_service == code_service


@dataclass(frozen=True)
class AccessRequest:
    structure: str
    application: Application
    mode: Mode
    code_service: str | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # stable code
    message: str  # French explanation

    def __bool__(self) -> bool:
        return self.allowed


def _label(request: AccessRequest) -> str:
    where = f"la structure {request.structure}"
    if request.code_service:
        where = f"le service {request.code_service} de {where}"
    return f"« {APPLICATION_LABELS[request.application]} » en {request.mode.lower()} sur {where}"


def decide(
    principal: Principal,
    request: AccessRequest,
    *,
    grants: Iterable[Grant],
    is_gestionnaire_principal: bool,
    deactivated: bool = False,
) -> Decision:
    if principal.is_operator:
        return Decision(True, "OPERATOR", "Opérateur de la plateforme.")
    if principal.is_technical:
        return Decision(False, "TECHNICAL_ACCOUNT",
                        "Un compte technique ne sert qu'au dépôt de flux.")
    if deactivated:
        return Decision(False, "USER_DEACTIVATED", "Ce compte utilisateur est désactivé.")
    if is_gestionnaire_principal:
        return Decision(True, "GESTIONNAIRE_PRINCIPAL",
                        f"Gestionnaire principal de la structure {request.structure}.")
    on_application = [
        g for g in grants
        if g.user_id == principal.subject and g.application == request.application
        and g.structure == request.structure
    ]
    covering = [g for g in on_application if g.covers(request.structure, request.code_service)]
    for grant in covering:
        # `==`, not `is`: a caller may hand plain strings read from storage.
        if request.mode == Mode.CONSULTATION or grant.mode == Mode.MODIFICATION:
            scope = f"service {grant.code_service}" if grant.code_service else "structure"
            return Decision(True, f"GRANT_{Mode(grant.mode).value}",
                            f"Habilitation {grant.mode.lower()} au niveau {scope}.")
    if covering:
        return Decision(False, "CONSULTATION_ONLY",
                        f"Habilitation en consultation seulement pour {_label(request)}.")
    if on_application:
        return Decision(False, "OTHER_SERVICE",
                        f"Les habilitations détenues ne couvrent pas {_label(request)}.")
    return Decision(False, "NO_GRANT", f"Aucune habilitation pour {_label(request)}.")
