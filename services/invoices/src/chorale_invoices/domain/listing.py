"""« Factures reçues » / « Factures émises » lists: one row per invoice, the filters, the sort
and the paging, as pure functions over rows (the rows live in memory: `adapters.list_index`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from chorale_invoices.domain.errors import InvoiceError
from chorale_invoices.domain.statuses import STATUS_LABELS, Status, supplier_view


@dataclass(slots=True)
class Row:
    invoiceId: str
    numeroFacture: str
    dateFacture: str
    dateDepot: str
    destinataire: str
    codeService: str | None
    numeroEngagement: str | None
    fournisseur: str
    raisonSocialeFournisseur: str | None
    montantTTC: str | None
    devise: str | None
    statut: Status
    dateStatut: str
    version: int
    statuts: tuple[Status, ...]  # the history, oldest first (the supplier's view needs it)
    montant: float | None = field(default=None)  # for filters and sort

    def __post_init__(self) -> None:
        if self.montant is None and self.montantTTC is not None:
            try:
                self.montant = float(Decimal(self.montantTTC))
            except InvalidOperation:
                self.montant = None

    def public(self, status: Status | None = None) -> dict[str, Any]:
        shown = status or self.statut
        return {
            "invoiceId": self.invoiceId, "numeroFacture": self.numeroFacture,
            "dateFacture": self.dateFacture, "dateDepot": self.dateDepot,
            "destinataire": self.destinataire, "codeService": self.codeService,
            "numeroEngagement": self.numeroEngagement, "fournisseur": self.fournisseur,
            "raisonSocialeFournisseur": self.raisonSocialeFournisseur,
            "montantTTC": self.montantTTC, "devise": self.devise, "statut": shown.value,
            "libelleStatut": STATUS_LABELS[shown], "dateStatut": self.dateStatut,
            "version": self.version,
        }

    def supplier_status(self, hide_payment: bool) -> Status:
        return supplier_view(list(self.statuts), hide_payment)


@dataclass(frozen=True)
class Filters:
    """Every filter is optional; `services` None = every service of the structure."""

    services: frozenset[str | None] | None = None
    statuts: frozenset[Status] | None = None
    fournisseur: str | None = None
    destinataire: str | None = None
    numeroFacture: str | None = None  # prefix, case-insensitive
    dateDepotDebut: str | None = None  # ISO dates, inclusive
    dateDepotFin: str | None = None
    dateFactureDebut: str | None = None
    dateFactureFin: str | None = None
    montantMin: float | None = None
    montantMax: float | None = None

    def predicate(self, status_of: Callable[[Row], Status]) -> Callable[[Row], bool]:
        checks: list[Callable[[Row], bool]] = []
        if self.services is not None:
            services = self.services
            checks.append(lambda r: r.codeService in services)
        if self.statuts:
            statuts = self.statuts
            checks.append(lambda r: status_of(r) in statuts)
        if self.fournisseur:
            fournisseur = self.fournisseur
            checks.append(lambda r: r.fournisseur == fournisseur)
        if self.destinataire:
            destinataire = self.destinataire
            checks.append(lambda r: r.destinataire == destinataire)
        if self.numeroFacture:
            prefix = self.numeroFacture.casefold()
            checks.append(lambda r: r.numeroFacture.casefold().startswith(prefix))
        for attr, low, high in (("dateDepot", self.dateDepotDebut, self.dateDepotFin),
                                ("dateFacture", self.dateFactureDebut, self.dateFactureFin)):
            checks.extend(_date_bounds(attr, low, high))
        if self.montantMin is not None:
            least = self.montantMin
            checks.append(lambda r: r.montant is not None and r.montant >= least)
        if self.montantMax is not None:
            most = self.montantMax
            checks.append(lambda r: r.montant is not None and r.montant <= most)
        if not checks:
            return lambda _row: True
        if len(checks) == 1:
            return checks[0]

        def every(row: Row) -> bool:
            for check in checks:
                if not check(row):
                    return False
            return True

        return every


def _date_bounds(attr: str, low: str | None, high: str | None) -> list[Callable[[Row], bool]]:
    """The checks of a date range (ISO dates compare as text); an empty bound is no bound."""
    checks: list[Callable[[Row], bool]] = []
    if low:
        checks.append(lambda r: getattr(r, attr) >= low)
    if high:
        checks.append(lambda r: getattr(r, attr) <= high)
    return checks


SORTS: dict[str, Callable[[Row], Any]] = {
    "dateDepot": lambda r: (r.dateDepot, r.invoiceId),
    "dateFacture": lambda r: (r.dateFacture, r.invoiceId),
    "dateStatut": lambda r: (r.dateStatut, r.invoiceId),
    "numeroFacture": lambda r: (r.numeroFacture, r.invoiceId),
    "montantTTC": lambda r: (r.montant if r.montant is not None else float("-inf"), r.invoiceId),
    "fournisseur": lambda r: (r.fournisseur, r.invoiceId),
    "statut": lambda r: (r.statut.value, r.invoiceId),
}
MAX_PAGE_SIZE = 200


def parse_sort(text: str) -> tuple[str, bool]:
    """`-dateDepot` → ("dateDepot", descending)."""
    descending = text.startswith("-")
    key = text.lstrip("-+")
    if key not in SORTS:
        raise InvoiceError("SORT_INVALID", f"Tri inconnu « {text} ».",
                           details={"trisPermis": sorted(SORTS)})
    return key, descending


def select(rows: Iterable[Row], filters: Filters, *, sort: str = "-dateDepot", page: int = 1,
           size: int = 50, status_of: Callable[[Row], Status] = lambda r: r.statut,
           ) -> tuple[int, list[Row]]:
    """The total of rows matching `filters` and the rows of page `page` (1-based)."""
    key_name, descending = parse_sort(sort)
    key = SORTS[key_name]
    keep = filters.predicate(status_of)
    matching = [r for r in rows if keep(r)]
    wanted = page * size
    if wanted < len(matching) // 4:  # a first page: no need to sort everything
        top = (heapq.nlargest if descending else heapq.nsmallest)(wanted, matching, key=key)
    else:
        top = sorted(matching, key=key, reverse=descending)
    return len(matching), top[(page - 1) * size: wanted]


_CSV_COLUMNS = ("numeroFacture", "dateFacture", "dateDepot", "destinataire", "codeService",
                "numeroEngagement", "fournisseur", "raisonSocialeFournisseur", "montantTTC",
                "devise", "statut", "libelleStatut", "dateStatut", "invoiceId")


def csv_rows(rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """The list as CSV rows, header first (the entrypoint writes them through the runtime's
    formula-neutralising writer)."""
    yield list(_CSV_COLUMNS)
    for row in rows:
        yield [row.get(c) for c in _CSV_COLUMNS]
