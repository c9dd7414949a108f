"""Pure rendering for `chorale flows`: one table row per status change (rich markup for the
colour), the detailed compte rendu of one flow, and the Suivi des flux aggregates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape

FLOW_EVENT = "flow.status_changed"

STATUS_STYLES: dict[str, str] = {
    "IN_RECU": "cyan",
    "IN_EN_ATTENTE_TRAITEMENT": "blue",
    "IN_EN_COURS_TRAITEMENT": "yellow",
    "IN_INTEGRE": "bold green",
    "IN_REJETE": "bold red",
    "IN_INCIDENTE": "bold magenta",
}
# (title, width); the last column takes what is left.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("HEURE (UTC)", 19), ("NUMÉRO DE FLUX", 22), ("PARTENAIRE", 14), ("FICHIER", 28),
    ("STATUT", 24), ("ERREURS", 0),
)
SHORT_STATUS = {
    "IN_RECU": "reçus", "IN_EN_ATTENTE_TRAITEMENT": "attente",
    "IN_EN_COURS_TRAITEMENT": "en cours", "IN_INTEGRE": "intégrés", "IN_REJETE": "rejetés",
    "IN_INCIDENTE": "incidents",
}


@dataclass(frozen=True)
class FlowRow:
    at: datetime
    numero: str
    partenaire: str
    fichier: str
    statut: str
    codes: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> FlowRow | None:
        """From an envelope as a dict; None for anything but a flow status change."""
        if event.get("event_type") != FLOW_EVENT:
            return None
        p = event["payload"]
        at = event["occurred_at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        codes = tuple(dict.fromkeys(e["code"] for e in p.get("erreurs") or []))
        return cls(at, p["numeroFluxDepot"], p["structurePartenaire"], p["nomFichier"],
                   p["statut"], codes)

    def matches(self, partner: str | None, status: Iterable[str] | None) -> bool:
        wanted = {s.upper() for s in status or ()}
        return (partner is None or self.partenaire == partner) and (
            not wanted or self.statut in wanted
        )


def _cell(text: str, width: int) -> str:
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text.ljust(width) if width else text


def header(*, color: bool = True) -> str:
    line = " ".join(_cell(t, w) for t, w in COLUMNS).rstrip()
    return f"[bold]{escape(line)}[/]" if color else line


def format_row(row: FlowRow, *, color: bool = True) -> str:
    """One line; with `color`, rich markup around the status (values are escaped)."""
    values = [row.at.strftime("%Y-%m-%d %H:%M:%S"), row.numero, row.partenaire, row.fichier,
              row.statut, ", ".join(row.codes)]
    cells = [_cell(v, w) for v, (_t, w) in zip(values, COLUMNS, strict=True)]
    if not color:
        return " ".join(cells).rstrip()
    marked = [escape(c) for c in cells]
    style = STATUS_STYLES.get(row.statut)
    if style:
        marked[4] = f"[{style}]{marked[4]}[/]"
    if row.codes:
        marked[5] = f"[red]{marked[5]}[/]"
    return " ".join(marked).rstrip()


def _errors(title: str, errors: list[Mapping[str, Any]] | None) -> list[str]:
    lines = [f"{title} ({len(errors or [])})"]
    for e in errors or []:
        where = " ".join(
            f"{k}={e[k]}" for k in ("ligne", "chemin", "numeroFacture") if e.get(k) is not None
        )
        code = e.get("code") or e.get("codeErreur") or "?"
        message = e.get("message") or e.get("libelleErreur") or ""
        lines.append(f"  - {code}: {message}" + (f" ({where})" if where else ""))
    return lines


def render_detail(flow: Mapping[str, Any]) -> str:
    """The compte rendu of one flow as the intake service returns it."""
    skip = {"listeErreurTechnique", "listeErreurDP", "historique", "factures"}
    keys = [k for k in flow if k not in skip and not isinstance(flow[k], dict | list)]
    width = max((len(k) for k in keys), default=0)
    lines = [f"{k:<{width}}  {flow[k]}" for k in keys]
    for step in flow.get("historique") or []:
        lines.append(f"  {step.get('date', '')}  {step.get('statut', '')}")
    lines += _errors("Erreurs techniques (listeErreurTechnique)", flow.get("listeErreurTechnique"))
    lines += _errors("Erreurs de dépôt (listeErreurDP)", flow.get("listeErreurDP"))
    return "\n".join(lines)


def render_stats(stats: Mapping[str, Any]) -> str:
    """The aggregates of GET /v1/suivi-flux/stats as plain text tables."""
    statuses = list(stats["statuts"])
    heads = [SHORT_STATUS.get(s, s) for s in statuses]
    title = f"Flux par statut, par {stats['granularite']}"
    if stats.get("partenaire"):
        title += f", partenaire {stats['partenaire']}"
    lines = [title, "DÉBUT".ljust(20) + "".join(h.rjust(10) for h in heads) + "TOTAL".rjust(8)]
    for point in stats["series"]:
        counts = point["parStatut"]
        lines.append(str(point["debut"])[:19].ljust(20)
                     + "".join(str(counts.get(s, 0)).rjust(10) for s in statuses)
                     + str(point["total"]).rjust(8))
    lines.append("")
    lines.append("PARTENAIRE".ljust(20) + "".join(h.rjust(10) for h in heads) + "TOTAL".rjust(8))
    for partner in stats["parPartenaire"]:
        counts = partner["parStatut"]
        lines.append(partner["partenaire"][:19].ljust(20)
                     + "".join(str(counts.get(s, 0)).rjust(10) for s in statuses)
                     + str(partner["total"]).rjust(8))
    lines.append("")
    lines.append("Codes de rejet : " + (", ".join(
        f"{c['code']} ×{c['nombre']}" for c in stats["codesRejet"]) or "aucun"))
    return "\n".join(lines)
