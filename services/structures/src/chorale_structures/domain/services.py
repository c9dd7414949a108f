"""Services of a structure (the code suppliers put in BT-10) and their activation rules.

``codeService``: 1 to 100 characters among A-Z, 0-9, ``_``, ``-`` and ``.``, starting with a
letter or digit; surrounding spaces are trimmed and letters upper-cased, so ``compta-1`` and
``COMPTA-1`` are the same code. Intake must look codes up through
:func:`normalize_service_code` too. Unique within a structure (the repository's unique index
is the real guard; :func:`ensure_code_available` gives the friendly error first).

Activation: ``dateDebutActivation`` is required; ``dateFinActivation`` is optional and may not
precede it (DATES_INCOHERENT). Both bounds are inclusive days: a service with start 2025-01-01
and end 2025-12-31 accepts invoices issued on 2025-12-31. (The portal words the end as "the
date from which the service is no longer active"; with day granularity an inclusive end is what
an operator means by "du 01/01 au 31/12", and it keeps start == end meaningful: one day.)
``statut`` (ACTIF/INACTIF) is changed only by activation/deactivation; a service receives
invoices on a day when it is ACTIF and the day is within its dates (:func:`is_active_on`).

``FACTURES_PUBLIQUES`` is created by the platform for every public structure (public-to-public
invoicing) and cannot be created, modified, deactivated or deleted by users
(SERVICE_CODE_RESERVED).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from chorale_contracts.events.common import StatutService
from chorale_contracts.events.structures import (
    ServiceActivated,
    ServiceCreated,
    ServiceDeactivated,
    ServiceUpdated,
)

from .errors import DomainError, ErrorCode, field_error, from_validation_error
from .events import Outcome
from .fields import Text

if TYPE_CHECKING:
    from .structures import Structure

RESERVED_SERVICE_CODE = "FACTURES_PUBLIQUES"
RESERVED_SERVICE_LIBELLE = "Factures publiques"
RESERVED_SERVICE_DESCRIPTION = "Service réservé à la facturation entre entités publiques."
SERVICE_CODE_MAX_LENGTH = 100
_CODE = re.compile(rf"^[A-Z0-9][A-Z0-9_.\-]{{0,{SERVICE_CODE_MAX_LENGTH - 1}}}$")
SERVICE_FIELDS = (
    "codeService",
    "libelle",
    "description",
    "dateDebutActivation",
    "dateFinActivation",
    "numeroEJDoitEtreRenseigne",
    "statut",
)
_EDITABLE = frozenset(
    {
        "libelle",
        "description",
        "dateDebutActivation",
        "dateFinActivation",
        "numeroEJDoitEtreRenseigne",
    }
)


def normalize_service_code(raw: Any) -> str:
    """Return the canonical code or raise SERVICE_CODE_INVALID."""
    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not _CODE.match(value):
        raise DomainError(
            ErrorCode.SERVICE_CODE_INVALID,
            "Le code service doit comporter de 1 à 100 caractères : lettres sans accent, "
            "chiffres, « _ », « - » ou « . », et commencer par une lettre ou un chiffre.",
            {"codeService": raw},
        )
    return value


def is_reserved_code(code: str) -> bool:
    return code.strip().upper() == RESERVED_SERVICE_CODE


class Service(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codeService: str
    libelle: Annotated[str, Text(200)]
    description: Annotated[str | None, Text(1000, multiline=True)] = None
    dateDebutActivation: date
    dateFinActivation: date | None = None
    numeroEJDoitEtreRenseigne: bool = False
    statut: StatutService = StatutService.ACTIF

    @field_validator("codeService", mode="before")
    @classmethod
    def _code(cls, value: Any) -> str:
        return normalize_service_code(value)

    @model_validator(mode="after")
    def _dates(self) -> Service:
        check_dates(self.dateDebutActivation, self.dateFinActivation)
        return self

    @property
    def reserved(self) -> bool:
        return self.codeService == RESERVED_SERVICE_CODE


def check_dates(debut: date, fin: date | None) -> None:
    if fin is not None and fin < debut:
        raise DomainError(
            ErrorCode.DATES_INCOHERENT,
            details={
                "dateDebutActivation": debut.isoformat(),
                "dateFinActivation": fin.isoformat(),
            },
        )


def _build(data: Mapping[str, Any]) -> Service:
    try:
        return Service.model_validate(dict(data))
    except ValidationError as exc:
        raise from_validation_error(exc) from None


_ServiceEvent = type[ServiceCreated | ServiceUpdated | ServiceActivated | ServiceDeactivated]


def service_event(kind: _ServiceEvent, structure_id: str, service: Service) -> Any:
    """The contract payload for a service change (the structure's identifiant is the key)."""
    return kind(
        identifiant=structure_id,
        **service.model_dump(exclude={"description"}),
    )


def reserved_service(start: date) -> Service:
    """The FACTURES_PUBLIQUES service every public structure gets at creation."""
    return Service(
        codeService=RESERVED_SERVICE_CODE,
        libelle=RESERVED_SERVICE_LIBELLE,
        description=RESERVED_SERVICE_DESCRIPTION,
        dateDebutActivation=start,
    )


def ensure_code_available(code: str, existing_codes: Collection[str]) -> None:
    canonical = normalize_service_code(code)
    if canonical in {c.upper() for c in existing_codes}:
        raise DomainError(ErrorCode.SERVICE_CODE_TAKEN, details={"codeService": canonical})


def _ensure_structure_active(structure: Structure) -> None:
    if structure.statut != "ACTIVE":
        raise DomainError(
            ErrorCode.STRUCTURE_INACTIVE, details={"identifiant": structure.identifiant}
        )


def _ensure_not_reserved(service: Service) -> None:
    if service.reserved:
        raise DomainError(
            ErrorCode.SERVICE_CODE_RESERVED, details={"codeService": service.codeService}
        )


def new_service(
    structure: Structure, data: Mapping[str, Any], existing_codes: Collection[str] = ()
) -> Outcome[Service]:
    """Create a user service: not reserved, code free in the structure, structure active."""
    _ensure_structure_active(structure)
    code = normalize_service_code(data.get("codeService"))
    if code == RESERVED_SERVICE_CODE:
        raise DomainError(ErrorCode.SERVICE_CODE_RESERVED, details={"codeService": code})
    ensure_code_available(code, existing_codes)
    service = _build({**data, "codeService": code})
    return Outcome(service, [service_event(ServiceCreated, structure.identifiant, service)])


def update_service(
    structure: Structure, service: Service, changes: Mapping[str, Any]
) -> Outcome[Service]:
    """Modify libellé, description, dates, EJ flag. Code and statut are not editable here."""
    _ensure_not_reserved(service)
    _ensure_structure_active(structure)
    current = service.model_dump()
    for name, value in changes.items():
        if name not in SERVICE_FIELDS:
            raise field_error(name, "champ inconnu")
        if name == "codeService" and normalize_service_code(value) != service.codeService:
            raise DomainError(ErrorCode.FIELD_READ_ONLY, details={"champ": name})
        if name == "statut" and value != service.statut:
            raise DomainError(
                ErrorCode.FIELD_READ_ONLY,
                "Le statut d'un service change par activation ou désactivation.",
                {"champ": name},
            )
    editable = {k: v for k, v in changes.items() if k in _EDITABLE}
    updated = _build({**current, **editable})
    if updated == service:
        return Outcome(service, [])
    return Outcome(updated, [service_event(ServiceUpdated, structure.identifiant, updated)])


def activate_service(structure: Structure, service: Service) -> Outcome[Service]:
    _ensure_not_reserved(service)
    _ensure_structure_active(structure)
    if service.statut is StatutService.ACTIF:
        raise DomainError(
            ErrorCode.SERVICE_ALREADY_ACTIVE, details={"codeService": service.codeService}
        )
    updated = service.model_copy(update={"statut": StatutService.ACTIF})
    return Outcome(updated, [service_event(ServiceActivated, structure.identifiant, updated)])


def deactivate_service(structure: Structure, service: Service) -> Outcome[Service]:
    _ensure_not_reserved(service)
    if service.statut is StatutService.INACTIF:
        raise DomainError(ErrorCode.SERVICE_INACTIVE, details={"codeService": service.codeService})
    updated = service.model_copy(update={"statut": StatutService.INACTIF})
    return Outcome(updated, [service_event(ServiceDeactivated, structure.identifiant, updated)])


def is_active_on(service: Service, day: date) -> bool:
    """True when the service may receive an invoice dated ``day`` (both bounds inclusive)."""
    if service.statut is not StatutService.ACTIF or day < service.dateDebutActivation:
        return False
    return service.dateFinActivation is None or day <= service.dateFinActivation
