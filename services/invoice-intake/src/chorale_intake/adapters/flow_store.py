"""Flows in the database, written for FerretDB 1.24 as much as for MongoDB: the hot path only
inserts and reads by `_id`.

- flows waiting or in progress: in `PendingStore` generations (see `pending_store`);
- `flows`: the terminal record of each flow, inserted once (`_id` = flow number: the unique
  insert is what makes the terminal status happen exactly once), with the events it causes.
  Only operator re-runs (rare) replace it, by compare-and-set on `tentative`, after claiming
  the re-run with a unique insert in `flow_reruns`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts.events.common import FlowStatus
from chorale_intake.adapters.flow_index import FlowIndex
from chorale_intake.adapters.inserts import insert_new
from chorale_intake.adapters.pending_store import PendingStore
from chorale_intake.domain.flow import Flow
from chorale_intake.domain.flow_query import FlowQuery, FlowRow
from chorale_runtime.mongo import IndexSpec

FLOWS = "flows"
RERUNS = "flow_reruns"

# Serve the list's filters on MongoDB when it is asked of the database (`CHORALE_FLOW_LIST=
# database`, for replicas); FerretDB 1.24 scans whatever the indexes, so by default the list
# is served from memory (`flow_index`).
INDEXES = (
    IndexSpec(FLOWS, (("dateDepot", -1),)),
    IndexSpec(FLOWS, (("structurePartenaire", 1), ("dateDepot", -1))),
    IndexSpec(FLOWS, (("statut", 1), ("dateDepot", -1))),
)


LIST_ROW = "ligne"  # a terminal record's list row (Flow.summary), beside its packed body


class FlowStore:
    def __init__(self, db: AsyncDatabase, pending: PendingStore,
                 index: FlowIndex | None = None):
        """`index`: the list of terminal flows in memory (None: the list queries the
        database)."""
        self._flows = db[FLOWS]
        self._reruns = db[RERUNS]
        self.pending = pending
        self.index = index

    # -- writes ---------------------------------------------------------------------------
    async def add_pending(self, flows: Sequence[Flow]) -> list[bool]:
        return await self.pending.add(flows)

    async def forget_pending(self, flows: Sequence[Flow]) -> None:
        await self.pending.finished(flows)

    async def add_terminal(self, flows: Sequence[Flow]) -> list[bool]:
        """Record terminal flows; False where the flow already has its terminal record."""
        inserted = await insert_new(self._flows, [_terminal_document(f) for f in flows])
        if self.index is not None:
            for flow in flows:  # already there (False): the same record, put again
                self.index.put(FlowRow.of(flow))
        return inserted

    async def claim_rerun(self, flow: Flow) -> bool:
        """One re-run per attempt, whoever asks: False if this attempt is already re-run."""
        doc = {"_id": f"{flow.number}:{flow.tentative}", "at": datetime.now(UTC)}
        return (await insert_new(self._reruns, [doc]))[0]

    async def release_rerun(self, flow: Flow) -> None:
        """The re-run could not be recorded: let it be asked again (rare: a small delete)."""
        await self._reruns.delete_one({"_id": f"{flow.number}:{flow.tentative}"})

    async def replace_terminal(self, flow: Flow, previous_attempt: int) -> bool:
        """A re-run's terminal record replaces the incident it re-ran (compare-and-set)."""
        result = await self._flows.replace_one(
            {"_id": flow.number, "tentative": previous_attempt}, _terminal_document(flow)
        )
        if result.modified_count == 1 and self.index is not None:
            self.index.put(FlowRow.of(flow))
        return result.modified_count == 1

    async def load_index(self) -> None:
        """Every terminal flow's list row, in one pass (start-up). Records written before
        the row was stored beside them are unpacked."""
        if self.index is None:
            return
        rows, older = [], []
        async for doc in self._flows.find({}, {LIST_ROW: 1}):  # not the packed records
            summary = doc.get(LIST_ROW)
            if isinstance(summary, dict):
                rows.append(FlowRow.of_summary(summary))
            else:
                older.append(doc["_id"])
        for number in older:
            doc = await self._flows.find_one({"_id": number}, {"evenements": 0})
            if doc is not None:
                rows.append(FlowRow.of(Flow.from_document(doc)))
        self.index.load(rows)

    # -- reads ----------------------------------------------------------------------------
    async def terminal(self, number: str) -> Flow | None:
        doc = await self._flows.find_one({"_id": number})
        return Flow.from_document(doc) if doc else None

    async def get(self, number: str) -> Flow | None:
        """The current state: a re-run in progress supersedes the incident it re-runs."""
        terminal = await self.terminal(number)
        if terminal is not None and terminal.statut is not FlowStatus.IN_INCIDENTE:
            return terminal
        waiting = await self.pending.find(number, terminal.tentative + 1 if terminal else 1)
        return waiting or terminal

    async def search(
        self, query: FlowQuery, *, skip: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Flows matching `query`, newest first: the total and one page of list rows. Memory
        holds the page and the flows in progress, never the whole history (the index holds
        one small row per terminal flow)."""
        latest: dict[str, Flow] = {}  # flows in progress, by number (the newest attempt)
        for name in await self.pending.collections():
            for flow in await self.pending.read(name):
                if flow.number not in latest or flow.tentative > latest[flow.number].tentative:
                    latest[flow.number] = flow
        waiting = [r for r in map(FlowRow.of, latest.values()) if query.matches(r)]
        superseded = frozenset(f.number for f in latest.values() if f.tentative > 1)  # re-runs
        if self.index is not None:
            total, terminal = self.index.search(query, exclude=superseded, limit=skip + limit)
        else:
            criteria = query.to_mongo(exclude=sorted(superseded))
            total = await self._flows.count_documents(criteria)
            cursor = (
                self._flows.find(criteria, {"evenements": 0})
                .sort([("dateDepot", -1), ("_id", -1)])
                .limit(skip + limit)
            )
            terminal = [FlowRow.of(Flow.from_document(d)) async for d in cursor]
        page = {r.numeroFluxDepot: r for r in waiting}
        for row in terminal:
            if row.numeroFluxDepot in page:  # terminal, not yet marked so in its generation
                total -= 1
            page[row.numeroFluxDepot] = row
        total += len(waiting)
        ordered = sorted(page.values(), key=lambda r: r.order, reverse=True)
        return total, [r.summary for r in ordered[skip : skip + limit]]


def _terminal_document(flow: Flow) -> dict[str, Any]:
    return {**flow.to_document(), LIST_ROW: flow.summary()}
