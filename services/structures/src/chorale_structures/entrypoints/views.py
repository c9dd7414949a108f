"""JSON representations returned by the HTTP API (Chorus Pro field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chorale_structures.adapters.model_store import Versioned
from chorale_structures.adapters.structure_store import StoredStructure
from chorale_structures.domain import Service
from chorale_structures.domain.structure_search import ListedStructure

_ATTACHMENT_FIELDS = ("idPieceJointe", "nom", "typeContenu", "taille", "sha256", "dateAjout")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def structure_view(stored: StoredStructure) -> dict[str, Any]:
    return {
        **stored.structure.model_dump(mode="json"),
        "version": stored.version,
        "nombreServices": len(stored.services),
        "dateCreation": _iso(stored.created_at),
        "dateModification": _iso(stored.modified_at),
    }


def listed_view(row: ListedStructure) -> dict[str, Any]:
    """A structure in a search's list: what the list shows and sorts on."""
    return {
        "identifiant": row.identifiant,
        "raisonSociale": row.raisonSociale,
        "typeStructure": row.typeStructure,
        "statut": row.statut,
        "ville": row.ville,
        "codePostal": row.codePostal,
        "version": row.version,
        "dateCreation": _iso(row.dateCreation),
    }


def service_view(service: Service) -> dict[str, Any]:
    return service.model_dump(mode="json")


def versioned_view(found: Versioned) -> dict[str, Any]:
    return {
        **found.model.model_dump(mode="json"),
        "identifiantStructure": found.identifiant,
        "version": found.version,
        "dateCreation": _iso(found.created_at),
        "dateModification": _iso(found.modified_at),
        **{k: v for k, v in found.extra.items() if v is not None},
    }


def attachment_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = {k: doc.get(k) for k in _ATTACHMENT_FIELDS}
    view["dateAjout"] = _iso(doc.get("dateAjout"))
    view["identifiantStructure"] = doc["identifiant"]
    return view


def import_view(job: dict[str, Any]) -> dict[str, Any]:
    size = job["tailleFichier"] or 0
    return {
        "idImport": job["_id"],
        "statut": job["statut"],
        "nomFichier": job["nomFichier"],
        "tailleFichier": size,
        "octetsTraites": job["octetsTraites"],
        "progression": round(job["octetsTraites"] / size, 4) if size else 1.0,
        "lignes": {
            "traitees": job["lignesTraitees"],
            "creees": job["creees"],
            "modifiees": job["modifiees"],
            "inchangees": job["inchangees"],
            "rejetees": job["rejetees"],
        },
        "rejets": job["rejets"],
        "rejetsNonDetailles": job["rejetsNonDetailles"],
        "erreur": job["erreur"],
        "dateCreation": _iso(job["dateCreation"]),
        "dateDebut": _iso(job["dateDebut"]),
        "dateFin": _iso(job["dateFin"]),
    }
