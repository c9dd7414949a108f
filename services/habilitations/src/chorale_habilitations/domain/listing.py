"""How grants are shown: « Mes habilitations » and the administrators' list, as JSON rows and as
the CSV export (columns of Chorus Pro's screen: Structure, Raison sociale, Code service, Libellé
service, Profil). CSV: `;`-separated, UTF-8 with a BOM, CRLF — what French Excel opens — and
cells starting with a formula character are defused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain.catalogue import Profile, application_label

CSV_HEADER = ("Structure", "Raison sociale", "Code service", "Libellé service", "Utilisateur",
              "Profil")


def row(doc: Mapping[str, Any], names: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A stored grant with the names the directory gives its structure and service."""
    structure = names.get(doc["structure"]) or {}
    service: Mapping[str, Any] = next((s for s in structure.get("services") or ()
                    if s["codeService"] == doc.get("codeService")), {})
    app, mode = Application(doc["application"]), Mode(doc["mode"])
    return {
        "grantId": doc["_id"],
        "userId": doc["userId"],
        "structure": doc["structure"],
        "raisonSociale": structure.get("raisonSociale"),
        "codeService": doc.get("codeService"),
        "libelleService": service.get("libelle"),
        "statutService": service.get("statut"),
        "application": app.value,
        "applicationLibelle": application_label(app),
        "mode": mode.value,
        "profil": Profile(app, mode).libelle,
        "reason": doc["reason"],
        "version": doc["version"],
        "updatedBy": doc.get("actor"),
        "updatedAt": doc["updatedAt"].isoformat() if doc.get("updatedAt") else None,
    }


def table(rows: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """The CSV export's lines, header first (written by chorale_runtime.csv_safe, which
    neutralises spreadsheet formulas)."""
    return [list(CSV_HEADER), *(
        [r[k] for k in ("structure", "raisonSociale", "codeService", "libelleService", "userId",
                        "profil")]
        for r in rows
    )]
