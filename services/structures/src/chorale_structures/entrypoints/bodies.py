"""The JSON bodies the structures API takes, one pydantic model each, so that the OpenAPI
document (/docs) shows every request's fields.

The rules stay the domain's (types, lengths, formats, read-only and unknown fields, the
parameters of a public structure): it refuses with its codes and French messages
(VALIDATION_FAILED with a reason per field, FIELD_READ_ONLY, PARAMETERS_NOT_APPLICABLE, ...)
once the caller's rights are checked. So a body accepts any JSON object and hands on exactly
what was sent (`sent()`), and each field is documented as the domain model's field of the same
name (`DOCUMENTED_AS`): the documentation cannot drift from the rules.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chorale_structures.domain.bank import CoordonneeBancaire
from chorale_structures.domain.parameters import ParametresStructure
from chorale_structures.domain.requests import StructureRequest
from chorale_structures.domain.services import Service
from chorale_structures.domain.structure_model import Structure


@functools.cache
def domain_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON Schema, self-contained (references inlined), without titles and defaults
    (absent means unchanged in a modification, and the domain applies its defaults)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k not in ("title", "default")}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


def _document(schema: dict[str, Any], body: type[RequestBody]) -> None:
    fields = domain_schema(body.DOCUMENTED_AS)["properties"] if body.DOCUMENTED_AS else {}
    for name, field in schema.get("properties", {}).items():
        field.pop("default", None)
        field.pop("title", None)  # the field's name says it better than its capitalised form
        field.update(copy.deepcopy(fields.get(name, {})))
    if body.REQUIRED:
        schema["required"] = list(body.REQUIRED)
    schema["additionalProperties"] = body.OTHERS_IGNORED


class RequestBody(BaseModel):
    """Any JSON object: the fields named below are documented, none is checked here."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_document)

    DOCUMENTED_AS: ClassVar[type[BaseModel] | None] = None
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    OTHERS_IGNORED: ClassVar[bool] = False  # else other fields are refused (by the domain)

    def sent(self) -> dict[str, Any]:
        """The body as sent: the fields present (null included) and any other."""
        return self.model_dump(exclude_unset=True)


def _read_only(what: str) -> Any:
    return Field(None, description=f"{what} : lecture seule, accepté s'il ne change pas")


class _StructureFields(RequestBody):
    DOCUMENTED_AS = Structure

    raisonSociale: Any = None
    libelleStructure: Any = None
    adresseElectronique: Any = None
    telephone: Any = None
    numeroTva: Any = None
    numeroRcs: Any = None
    nonDiffusibleInsee: Any = None
    adresse: Any = None
    complementAdresse1: Any = None
    complementAdresse2: Any = None
    codePostal: Any = None
    ville: Any = None
    pays: Any = Field(None, description="code ISO à 2 lettres (FR à la création si absent)")


class StructureCreation(_StructureFields):
    """Une structure privée (fournisseur) ; son créateur en devient gestionnaire principal."""

    REQUIRED = ("identifiant", "raisonSociale")

    identifiant: Any = Field(None, description="SIRET (14 chiffres) ou identifiant selon le type")
    typeIdentifiant: Any = Field(None, description="SIRET si absent")
    typeStructure: Any = Field(None, description="PRIVEE si présent")
    statut: Any = Field(None, description="ACTIVE si présent")


class StructureChanges(_StructureFields):
    """Informations générales et adresse : les champs présents changent (null efface un champ
    facultatif) ; les paramètres se modifient par PUT …/parametres."""

    identifiant: Any = _read_only("identifiant")
    typeIdentifiant: Any = _read_only("type d'identifiant")
    typeStructure: Any = _read_only("type de structure")
    statut: Any = Field(None, description="lecture seule : change par activation/désactivation")


class ParametersChanges(RequestBody):
    """Paramètres d'une structure publique : ceux présents changent, les autres gardent leur
    valeur ; recevoirDonneesViaEDI (données de référence DGFiP) est réservé aux opérateurs."""

    DOCUMENTED_AS = ParametresStructure

    codeServiceDoitEtreRenseigne: Any = None
    numeroEJDoitEtreRenseigne: Any = None
    gestionNumeroEJOuCodeService: Any = None
    statutMiseEnPaiementNestPasRemonte: Any = None
    recevoirDonneesViaEDI: Any = None
    presenceMOA: Any = None


class _ServiceFields(RequestBody):
    DOCUMENTED_AS = Service

    libelle: Any = None
    description: Any = None
    dateDebutActivation: Any = None
    dateFinActivation: Any = None
    numeroEJDoitEtreRenseigne: Any = None


class ServiceCreation(_ServiceFields):
    """Un service de la structure (code libre dans la structure, hors FACTURES_PUBLIQUES)."""

    REQUIRED = ("codeService", "libelle", "dateDebutActivation")

    codeService: Any = Field(None, description="mis en majuscules")


class ServiceChanges(_ServiceFields):
    """Libellé, description, dates, obligation du numéro d'engagement : les champs présents
    changent."""

    codeService: Any = _read_only("code du service")
    statut: Any = Field(None, description="lecture seule : change par activation/désactivation")


class _BankDetailsFields(RequestBody):
    DOCUMENTED_AS = CoordonneeBancaire

    nom: Any = None
    type: Any = None
    iban: Any = Field(None, description="type IBAN ; déduit du RIB pour le type RIB")
    bic: Any = Field(None, description="obligatoire avec un IBAN")
    codeBanque: Any = Field(None, description="type RIB")
    codeGuichet: Any = Field(None, description="type RIB")
    numeroCompte: Any = Field(None, description="type RIB")
    cleRib: Any = Field(None, description="type RIB")
    affactureur: Any = None
    idPieceJointe: Any = Field(None, description="pièce jointe de la structure (le RIB)")


class BankDetailsCreation(_BankDetailsFields):
    """Un IBAN (avec son BIC) ou un RIB (banque, guichet, compte, clé), et le document du RIB
    déjà déposé en pièce jointe de la structure."""

    REQUIRED = ("nom", "type", "idPieceJointe")


class BankDetailsChanges(_BankDetailsFields):
    """Les champs présents remplacent les actuels ; changer de type efface les champs de
    l'autre."""

    idCoordonneeBancaire: Any = _read_only("identifiant")
    statut: Any = Field(None, description="lecture seule : change par désactivation")


def _proposed_structure() -> dict[str, Any]:
    schema = copy.deepcopy(domain_schema(Structure))
    schema["required"] = [f for f in schema["required"] if f != "typeStructure"]  # PUBLIQUE
    return schema


class RequestSubmission(RequestBody):
    """Demande de création d'une structure publique (`structure`) ou de désactivation d'une
    structure (`identifiant`)."""

    DOCUMENTED_AS = StructureRequest
    REQUIRED = ("type",)
    OTHERS_IGNORED = True

    type: Any = None
    identifiant: Any = Field(None, description="DESACTIVATION_STRUCTURE : la structure")
    structure: Any = Field(
        None,
        description="CREATION_STRUCTURE_PUBLIQUE : la structure proposée",
        json_schema_extra=lambda field: field.update(_proposed_structure()),
    )
    commentaire: Any = None


class Decision(RequestBody):
    """Le commentaire de l'opérateur : facultatif pour une acceptation, motif obligatoire
    d'un refus."""

    DOCUMENTED_AS = StructureRequest
    OTHERS_IGNORED = True

    commentaireOperateur: Any = None
