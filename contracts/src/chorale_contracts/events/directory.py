"""`chorale.directory.v1` (compacted): the full routing snapshot of one structure, republished on
every change. Key: the structure's `identifiant`. Consumers keep only the highest `version`."""

from datetime import date

from pydantic import BaseModel, ConfigDict

from chorale_contracts.events.common import (
    StatutService,
    StatutStructure,
    TypeIdentifiant,
    TypeStructure,
)
from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class DirectoryService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    codeService: str
    libelle: str
    statut: StatutService
    dateDebutActivation: date
    dateFinActivation: date | None = None
    numeroEJDoitEtreRenseigne: bool = False


class DirectoryParameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    codeServiceDoitEtreRenseigne: bool = False
    numeroEJDoitEtreRenseigne: bool = False
    gestionNumeroEJOuCodeService: bool = False
    statutMiseEnPaiementNestPasRemonte: bool = False
    recevoirDonneesViaEDI: bool = False
    presenceMOA: str = "SANS_MOA"


@event
class DirectorySnapshot(EventPayload):
    event_type = "directory.snapshot"
    topic = Topic.DIRECTORY

    identifiant: str
    typeIdentifiant: TypeIdentifiant
    typeStructure: TypeStructure
    statut: StatutStructure
    raisonSociale: str
    parametres: DirectoryParameters
    services: list[DirectoryService]
    # Monotonic per structure: a consumer ignores a snapshot older than the one it holds.
    version: int
