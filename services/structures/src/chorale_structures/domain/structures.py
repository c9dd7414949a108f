"""The Structure aggregate: general information, postal address, public parameters, statut.

Field names are the Chorus Pro JSON names. Rules:

- 1 identifiant = 1 structure; ``identifiant`` is validated and normalised for its
  ``typeIdentifiant`` (identifiers.py). ``identifiant``, ``typeIdentifiant`` and
  ``typeStructure`` never change; ``statut`` changes only through :func:`activate` /
  :func:`deactivate` (FIELD_READ_ONLY in :func:`apply_update`).
- ``parametres`` exist only on PUBLIQUE structures (PARAMETERS_NOT_APPLICABLE otherwise); a
  public structure always has them (defaults: nothing mandatory). See parameters.py.
- ``numeroTva``, when given, must be a valid EU VAT number (stdnum). It is not cross-checked
  with the SIREN: a member of a VAT group ("assujetti unique") carries the group's number.
- ``pays`` is an ISO 3166 alpha-2 code (default FR); in France ``codePostal`` is 5 digits.
- An INACTIVE structure can only be changed by an operator (reference import).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from chorale_contracts import EventPayload
from chorale_contracts.events.structures import (
    ServiceCreated,
    StructureActivated,
    StructureCreated,
    StructureDeactivated,
    StructureParametersChanged,
    StructureUpdated,
)

from .errors import DomainError, ErrorCode, field_error, from_validation_error
from .events import Outcome
from .parameters import OPERATOR_ONLY_PARAMETERS, PARAMETER_FIELDS
from .services import Service, reserved_service, service_event
from .structure_model import (
    ADDRESS_FIELDS,
    GENERAL_FIELDS,
    READ_ONLY_FIELDS,
    StatutStructure,
    Structure,
    TypeStructure,
)

__all__ = [
    "ADDRESS_FIELDS",
    "GENERAL_FIELDS",
    "READ_ONLY_FIELDS",
    "PublicStructureCreated",
    "StatutStructure",
    "Structure",
    "TypeStructure",
    "activate",
    "apply_update",
    "deactivate",
    "new_private_structure",
    "new_public_structure",
]


class PublicStructureCreated(NamedTuple):
    structure: Structure
    reserved_service: Service
    events: list[EventPayload]


def _build(data: Mapping[str, Any]) -> Structure:
    try:
        return Structure.model_validate(dict(data))
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _split_parameters(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accept parameters flat (Chorus Pro form) or nested under ``parametres``."""
    rest = {k: v for k, v in data.items() if k not in PARAMETER_FIELDS and k != "parametres"}
    nested = data.get("parametres") or {}
    if not isinstance(nested, Mapping):
        raise field_error("parametres", "objet attendu")
    params = {**nested, **{k: v for k, v in data.items() if k in PARAMETER_FIELDS}}
    return rest, params


def _forced(data: Mapping[str, Any], name: str, value: str) -> None:
    given = data.get(name)
    if given is not None and given != value:
        raise field_error(name, f"valeur imposée : {value}")


def new_private_structure(data: Mapping[str, Any], *, creator_id: str) -> Outcome[Structure]:
    """A supplier structure, created at once; its creator becomes gestionnaire principal."""
    _forced(data, "typeStructure", TypeStructure.PRIVEE)
    _forced(data, "statut", StatutStructure.ACTIVE)
    rest, params = _split_parameters(data)
    if params:
        raise DomainError(ErrorCode.PARAMETERS_NOT_APPLICABLE, details={"champs": sorted(params)})
    structure = _build({**rest, "typeStructure": TypeStructure.PRIVEE})
    return Outcome(structure, [_created(structure, "SELF_SERVICE", creator_id)])


def new_public_structure(
    data: Mapping[str, Any],
    *,
    today: date,
    origin: Literal["IMPORT", "REQUEST"] = "IMPORT",
    created_by: str | None = None,
) -> PublicStructureCreated:
    """A public structure (operator import or approved request) with its FACTURES_PUBLIQUES,
    active from ``today``. Its gestionnaire principal is designated later by an operator."""
    _forced(data, "typeStructure", TypeStructure.PUBLIQUE)
    _forced(data, "statut", StatutStructure.ACTIVE)
    rest, params = _split_parameters(data)
    structure = _build({**rest, "typeStructure": TypeStructure.PUBLIQUE, "parametres": params})
    service = reserved_service(today)
    events = [
        _created(structure, origin, created_by),
        service_event(ServiceCreated, structure.identifiant, service),
    ]
    return PublicStructureCreated(structure, service, events)


def _created(structure: Structure, origin: Any, created_by: str | None) -> StructureCreated:
    return StructureCreated(
        identifiant=structure.identifiant,
        typeIdentifiant=structure.typeIdentifiant,
        typeStructure=structure.typeStructure,
        raisonSociale=structure.raisonSociale,
        createdBy=created_by,
        origin=origin,
    )


def _check_update_keys(
    structure: Structure, general: Mapping[str, Any], params: Mapping[str, Any], by_operator: bool
) -> None:
    unknown = [k for k in general if k not in GENERAL_FIELDS + ADDRESS_FIELDS + READ_ONLY_FIELDS]
    if unknown:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, details={"fields": dict.fromkeys(unknown, "champ inconnu")}
        )
    for name in READ_ONLY_FIELDS:
        if name in general and str(general[name]) != str(getattr(structure, name)):
            raise DomainError(ErrorCode.FIELD_READ_ONLY, details={"champ": name})
    if params and not structure.is_public:
        raise DomainError(ErrorCode.PARAMETERS_NOT_APPLICABLE, details={"champs": sorted(params)})
    if not by_operator:
        if not structure.is_active:
            raise DomainError(
                ErrorCode.STRUCTURE_INACTIVE, details={"identifiant": structure.identifiant}
            )
        for name in OPERATOR_ONLY_PARAMETERS & params.keys():
            if params[name] != getattr(structure.parametres, name):
                raise DomainError(
                    ErrorCode.FIELD_READ_ONLY,
                    "Ce paramètre provient des données de référence de la DGFiP.",
                    {"champ": name},
                )


def apply_update(
    structure: Structure, changes: Mapping[str, Any], *, by_operator: bool = False
) -> Outcome[Structure]:
    """Validate a partial change (present keys only; None clears an optional field).

    Emits ``structure.updated`` (``changes``: the new values of the changed fields) when
    general information or address changed, and ``structure.parameters_changed`` (the full new
    parameter set) when parameters changed; nothing when nothing changed.
    """
    general, params = _split_parameters(changes)
    _check_update_keys(structure, general, params, by_operator)
    current = structure.model_dump()
    editable = {k: v for k, v in general.items() if k not in READ_ONLY_FIELDS}
    new_params = {**(current["parametres"] or {}), **params} if structure.is_public else None
    updated = _build({**current, **editable, "parametres": new_params})
    events: list[EventPayload] = []
    new_values = updated.model_dump(mode="json")
    changes = {
        k: new_values[k]
        for k in GENERAL_FIELDS + ADDRESS_FIELDS
        if getattr(updated, k) != getattr(structure, k)
    }
    if changes:
        events.append(StructureUpdated(identifiant=structure.identifiant, changes=changes))
    if updated.parametres != structure.parametres:
        parameters = updated.parametres.model_dump(mode="json") if updated.parametres else {}
        events.append(
            StructureParametersChanged(identifiant=structure.identifiant, parameters=parameters)
        )
    return Outcome(updated if events else structure, events)


def activate(structure: Structure) -> Outcome[Structure]:
    if structure.is_active:
        raise DomainError(
            ErrorCode.STRUCTURE_ALREADY_ACTIVE, details={"identifiant": structure.identifiant}
        )
    updated = structure.model_copy(update={"statut": StatutStructure.ACTIVE})
    return Outcome(updated, [StructureActivated(identifiant=updated.identifiant)])


def deactivate(structure: Structure) -> Outcome[Structure]:
    if not structure.is_active:
        raise DomainError(
            ErrorCode.STRUCTURE_INACTIVE, details={"identifiant": structure.identifiant}
        )
    updated = structure.model_copy(update={"statut": StatutStructure.INACTIVE})
    return Outcome(updated, [StructureDeactivated(identifiant=updated.identifiant)])
