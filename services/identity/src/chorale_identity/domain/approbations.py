"""« Approbations »: the gestionnaires' list of rattachement requests, its filter and CSV.

Columns as on Chorus Pro: état, description, demandeur, structure, raison sociale, service,
créé. The service layer supplies what this service does not own: the requester's display name
(from accounts) and the raison sociale (from its read model of the structures directory).

CSV: ``;``-separated, UTF-8 with a BOM and CRLF line ends, which is what French Excel opens
correctly by double-click. Cells starting with ``= + - @`` (or tab/CR) are prefixed with ``'``
so a requester cannot plant a formula in a gestionnaire's spreadsheet (CSV injection).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime

from .base import DomainModel
from .rattachements import Rattachement, RattachementOrigin, RattachementStatus

PARIS = ZoneInfo("Europe/Paris")

ETAT_LIBELLES: dict[RattachementStatus, str] = {
    RattachementStatus.EN_COURS_DE_VALIDATION: "En cours de validation",
    RattachementStatus.VALIDEE: "Validée",
    RattachementStatus.REFUSEE: "Refusée",
    RattachementStatus.DESACTIVEE: "Désactivée",
}

CSV_HEADER = (
    "État",
    "Description",
    "Demandeur",
    "Structure",
    "Raison sociale",
    "Service",
    "Créé le",
)


class ApprobationRow(DomainModel):
    id: str
    etat: RattachementStatus
    description: str
    demandeur: str
    structure: str
    raison_sociale: str | None
    service: str | None
    cree: AwareDatetime


def describe(rattachement: Rattachement) -> str:
    target = (
        f"au service {rattachement.code_service}" if rattachement.code_service else "à la structure"
    )
    if rattachement.origin is RattachementOrigin.DIRECT:
        return f"Rattachement direct {target}"
    return f"Demande de rattachement {target}"


def approbation_row(
    rattachement: Rattachement, *, demandeur: str, raison_sociale: str | None
) -> ApprobationRow:
    return ApprobationRow(
        id=rattachement.id,
        etat=rattachement.status,
        description=describe(rattachement),
        demandeur=demandeur,
        structure=rattachement.identifiant_structure,
        raison_sociale=raison_sociale,
        service=rattachement.code_service,
        cree=rattachement.created_at,
    )


def approbation_rows(
    rattachements: Iterable[Rattachement],
    demandeur_of: Callable[[str], str],
    raison_sociale_of: Callable[[str], str | None],
) -> list[ApprobationRow]:
    """Rows, most recent first. ``demandeur_of(user_id)``, ``raison_sociale_of(identifiant)``."""
    rows = [
        approbation_row(
            r,
            demandeur=demandeur_of(r.user_id),
            raison_sociale=raison_sociale_of(r.identifiant_structure),
        )
        for r in rattachements
    ]
    return sorted(rows, key=lambda row: row.cree, reverse=True)


def filter_rows(
    rows: Iterable[ApprobationRow],
    *,
    etats: Iterable[RattachementStatus] | None = None,
    structure: str | None = None,
    service: str | None = None,
    texte: str | None = None,
    depuis: datetime | None = None,
    jusqu_a: datetime | None = None,
) -> list[ApprobationRow]:
    """The Approbations filter; ``texte`` searches demandeur, description and raison sociale
    case-insensitively; ``depuis``/``jusqu_a`` bound the creation date (inclusive)."""
    wanted = set(etats) if etats is not None else None
    needle = (texte or "").strip().casefold()
    result = []
    for row in rows:
        if wanted is not None and row.etat not in wanted:
            continue
        if structure and row.structure != "".join(structure.split()):
            continue
        if service and row.service != service.strip():
            continue
        if depuis and row.cree < depuis:
            continue
        if jusqu_a and row.cree > jusqu_a:
            continue
        haystack = " ".join([row.demandeur, row.description, row.raison_sociale or ""])
        if needle and needle not in haystack.casefold():
            continue
        result.append(row)
    return result


def approbations_table(rows: Iterable[ApprobationRow]) -> list[list[str]]:
    """The CSV export's lines, header first (written by chorale_runtime.csv_safe, which
    neutralises spreadsheet formulas)."""
    return [list(CSV_HEADER), *(
        [
            ETAT_LIBELLES[row.etat],
            row.description,
            row.demandeur,
            row.structure,
            row.raison_sociale or "",
            row.service or "",
            row.cree.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
        ]
        for row in rows
    )]
