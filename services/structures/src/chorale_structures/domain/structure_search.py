"""Searching structures in memory: the few fields a list filters and sorts on, one small row per
structure, and the same matching and order as the database query (``adapters/structure_store``)
so that both answer alike.

Why in memory: FerretDB 1.24 serves only an exact ``{"_id": …}`` filter from an index and
scans the whole collection (every document, services included) for anything else: a search
over 10,000 structures took seconds. The rows are kept current by the store's own writes and
reloaded at start; on MongoDB (several replicas possible) the database answers instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SORT_FIELDS = ("identifiant", "raisonSociale", "ville", "codePostal", "dateCreation")


@dataclass(frozen=True)
class SearchCriteria:
    identifiant: str | None = None  # exact, spaces ignored
    raisonSociale: str | None = None  # contains, case-insensitive
    ville: str | None = None  # contains, case-insensitive
    codePostal: str | None = None  # starts with
    typeStructure: str | None = None
    statut: str | None = None
    restrict_to: frozenset[str] | None = None  # None: every structure (operators)
    # The directory's one search box (« Identifiant », « Raison sociale » or « Libellé de la
    # structure »): the identifiant (spaces ignored), or part of the raison sociale or libellé.
    texte: str | None = None

    def identifiants(self) -> set[str] | None:
        """The only identifiants that can match (None: any)."""
        ids: set[str] | None = None
        if self.identifiant:
            ids = {self.identifiant.replace(" ", "")}
        if self.restrict_to is not None:
            ids = set(self.restrict_to) if ids is None else ids & self.restrict_to
        return ids


@dataclass(frozen=True, slots=True)
class ListedStructure:
    """What a search needs of a structure (filters, sort keys) and the version it reflects."""

    identifiant: str
    version: int
    raisonSociale: str | None = None
    ville: str | None = None
    codePostal: str | None = None
    typeStructure: str | None = None
    statut: str | None = None
    dateCreation: datetime | None = None
    libelleStructure: str | None = None
    # Case-folded once here rather than at every search (a search reads every row).
    folded_raison: str | None = field(init=False, compare=False, repr=False)
    folded_ville: str | None = field(init=False, compare=False, repr=False)
    folded_libelle: str | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folded_raison", _folded(self.raisonSociale))
        object.__setattr__(self, "folded_ville", _folded(self.ville))
        object.__setattr__(self, "folded_libelle", _folded(self.libelleStructure))

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> ListedStructure:
        """From a stored document (``_id`` = identifiant) or any mapping with those fields."""
        return cls(
            identifiant=doc.get("_id") or doc["identifiant"], version=doc["version"],
            **{name: doc.get(name) for name in _COPIED},
        )


_COPIED = ("raisonSociale", "ville", "codePostal", "typeStructure", "statut", "dateCreation",
           "libelleStructure")
PROJECTION = {name: 1 for name in ("version", *_COPIED)}


def _folded(text: str | None) -> str | None:
    return None if text is None else text.strip().casefold()


def matcher(criteria: SearchCriteria) -> Callable[[ListedStructure], bool]:
    """Everything but the identifiants (see :meth:`SearchCriteria.identifiants`); the texts
    searched are folded once per search, the rows' once per row (:class:`ListedStructure`)."""
    raison, ville = _folded(criteria.raisonSociale or None), _folded(criteria.ville or None)
    prefix = (criteria.codePostal or "").strip()
    kind, statut = criteria.typeStructure, criteria.statut
    text = _folded(criteria.texte)
    text_id = (criteria.texte or "").replace(" ", "")

    def match(row: ListedStructure) -> bool:
        return (
            (not text or row.identifiant == text_id
             or (row.folded_raison is not None and text in row.folded_raison)
             or (row.folded_libelle is not None and text in row.folded_libelle))
            and (raison is None or (row.folded_raison is not None
                                    and raison in row.folded_raison))
            and (ville is None or (row.folded_ville is not None
                                   and ville in row.folded_ville))
            and (not prefix or (row.codePostal is not None
                                and row.codePostal.startswith(prefix)))
            and (not kind or row.typeStructure == kind)
            and (not statut or row.statut == statut)
        )

    return match


def matches(row: ListedStructure, criteria: SearchCriteria) -> bool:
    return matcher(criteria)(row)


def _key(field: str):
    # As the database orders: missing values first, then by value; identifiant breaks ties.
    if field == "identifiant":
        return lambda row: row.identifiant
    return lambda row: (getattr(row, field) is not None, getattr(row, field) or "")


def ordered(rows: Iterable[ListedStructure], field: str, descending: bool) -> list[ListedStructure]:
    """Sorted on ``field`` (then identifiant ascending, as the database query sorts)."""
    by_id = sorted(rows, key=_key("identifiant"))
    if field == "identifiant":
        return by_id[::-1] if descending else by_id
    if field == "dateCreation":
        return sorted(by_id, key=lambda row: (row.dateCreation is not None,
                                              row.dateCreation or datetime.min),
                      reverse=descending)
    return sorted(by_id, key=_key(field), reverse=descending)  # a stable sort keeps ties by id


class SearchIndex:
    """Every structure's row, by identifiant; the orders asked for are kept until a write."""

    def __init__(self) -> None:
        self._rows: dict[str, ListedStructure] = {}
        self._orders: dict[tuple[str, bool], list[ListedStructure]] = {}
        self.loaded = False

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, row: ListedStructure) -> None:
        """Keep the newest version seen (a reload may read a row older than a write's)."""
        known = self._rows.get(row.identifiant)
        if known is None or known.version <= row.version:
            if known != row:
                self._rows[row.identifiant] = row
                self._orders.clear()

    def search(
        self, criteria: SearchCriteria, field: str, descending: bool, skip: int, limit: int
    ) -> tuple[int, list[ListedStructure]]:
        """The total and the rows of the page asked for."""
        ids = criteria.identifiants()
        if ids is not None:
            rows = ordered((self._rows[i] for i in ids if i in self._rows), field, descending)
        else:
            cached = self._orders.get((field, descending))
            if cached is None:
                cached = self._orders[(field, descending)] = ordered(
                    self._rows.values(), field, descending)
            rows = cached
        if _filters(criteria):
            match = matcher(criteria)
            rows = [row for row in rows if match(row)]
        return len(rows), rows[skip:skip + limit]


def _filters(criteria: SearchCriteria) -> bool:
    return any((criteria.raisonSociale, criteria.ville, criteria.codePostal,
                criteria.typeStructure, criteria.statut, criteria.texte))
