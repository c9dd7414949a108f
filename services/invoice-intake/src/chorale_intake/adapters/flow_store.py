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
from chorale_intake.adapters.inserts import insert_new
from chorale_intake.adapters.pending_store import PendingStore
from chorale_intake.domain.flow import Flow
from chorale_runtime.mongo import IndexSpec

FLOWS = "flows"
RERUNS = "flow_reruns"

# Serve the operators' filters on MongoDB (FerretDB 1.24 scans whatever the indexes).
INDEXES = (
    IndexSpec(FLOWS, (("dateDepot", -1),)),
    IndexSpec(FLOWS, (("structurePartenaire", 1), ("dateDepot", -1))),
    IndexSpec(FLOWS, (("statut", 1), ("dateDepot", -1))),
)


class FlowStore:
    def __init__(self, db: AsyncDatabase, pending: PendingStore):
        self._flows = db[FLOWS]
        self._reruns = db[RERUNS]
        self.pending = pending

    # -- writes ---------------------------------------------------------------------------
    async def add_pending(self, flows: Sequence[Flow]) -> list[bool]:
        return await self.pending.add(flows)

    async def forget_pending(self, flows: Sequence[Flow]) -> None:
        await self.pending.finished(flows)

    async def add_terminal(self, flows: Sequence[Flow]) -> list[bool]:
        """Record terminal flows; False where the flow already has its terminal record."""
        return await insert_new(self._flows, [f.to_document() for f in flows])

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
            {"_id": flow.number, "tentative": previous_attempt}, flow.to_document()
        )
        return result.modified_count == 1

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
        self, criteria: dict[str, Any], *, skip: int, limit: int
    ) -> tuple[int, list[Flow]]:
        """Flows matching `criteria`, newest first: the total and one page. Memory holds the
        page and the flows in progress, never the whole history."""
        latest: dict[str, Flow] = {}  # flows in progress, by number (the newest attempt)
        matching: set[str] = set()
        for name in await self.pending.collections():
            for flow in await self.pending.read(name):
                if flow.number not in latest or flow.tentative > latest[flow.number].tentative:
                    latest[flow.number] = flow
            matching |= await self.pending.numbers(name, criteria)
        waiting = [f for n, f in latest.items() if n in matching]
        superseded = [f.number for f in latest.values() if f.tentative > 1]  # re-runs
        terminal_criteria = {**criteria, "_id": {"$nin": superseded}} if superseded else criteria
        total = await self._flows.count_documents(terminal_criteria)
        cursor = (
            self._flows.find(terminal_criteria, {"evenements": 0})
            .sort([("dateDepot", -1), ("_id", -1)])
            .limit(skip + limit)
        )
        page = {f.number: f for f in waiting}
        for doc in [d async for d in cursor]:
            flow = Flow.from_document(doc)
            if flow.number in page:  # terminal, not yet marked so in its generation
                total -= 1
            page[flow.number] = flow
        total += len(waiting)
        ordered = sorted(page.values(), key=lambda f: (f.dateDepot, f.number), reverse=True)
        return total, ordered[skip : skip + limit]
