"""The « Suivi des flux » list of terminal flows, in memory, by partner structure.

Why: FerretDB 1.24 serves only `{"_id": x}` from an index; listing flows with any filter read
the whole `flows` collection at every page (a count, then a sorted find), so a list page grew
with the history. The intake therefore loads every terminal flow's list row once at start-up
(one pass; readiness waits for it) and adds each terminal record it writes — sound because one
process owns a service database on FerretDB (docs/SERVICE_GUIDE.md). A row is a few hundred
bytes: 100,000 flows ≈ 40 MB. Replicas on MongoDB do not see each other's writes here: they
set `CHORALE_FLOW_LIST=database` and the list queries the collection with its indexes.

Flows still in progress are not here: they are read from the pending generations (bounded).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from chorale_intake.domain.flow_query import FlowQuery, FlowRow


class FlowIndex:
    def __init__(self) -> None:
        self._by_partner: dict[str, dict[str, FlowRow]] = {}
        self._rows: dict[str, FlowRow] = {}
        self.loaded = False

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, row: FlowRow) -> None:
        """A terminal record (a re-run's replaces the incident it re-ran: a later attempt
        wins, an older one never comes back)."""
        old = self._rows.get(row.numeroFluxDepot)
        if old is not None and old.tentative > row.tentative:
            return
        if old is not None and old.structurePartenaire != row.structurePartenaire:
            self._by_partner.get(old.structurePartenaire, {}).pop(old.numeroFluxDepot, None)
        self._rows[row.numeroFluxDepot] = row
        self._by_partner.setdefault(row.structurePartenaire, {})[row.numeroFluxDepot] = row

    def load(self, rows: Iterable[FlowRow]) -> None:
        for row in rows:
            self.put(row)
        self.loaded = True

    def search(self, query: FlowQuery, *, exclude: frozenset[str], limit: int
               ) -> tuple[int, list[FlowRow]]:
        """How many rows match (but `exclude`: flows being re-run, listed as in progress) and
        the `limit` newest of them."""
        if query.partner is not None:
            candidates: Iterable[FlowRow] = self._by_partner.get(query.partner, {}).values()
        else:
            candidates = self._rows.values()
        if query == FlowQuery(partner=query.partner):  # no other filter: no test per row
            matching = [r for r in candidates if r.numeroFluxDepot not in exclude] \
                if exclude else list(candidates)
        else:
            matching = [r for r in candidates
                        if query.matches(r) and r.numeroFluxDepot not in exclude]
        if limit < len(matching) // 4:  # a first page: no need to sort everything
            top = heapq.nlargest(limit, matching, key=lambda r: r.order)
        else:
            top = sorted(matching, key=lambda r: r.order, reverse=True)[:limit]
        return len(matching), top
