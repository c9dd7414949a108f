"""Flows in the database, written for FerretDB 1.24 as much as for MongoDB.

FerretDB 1.24 (SQLite) serves an `insert` and a `find` by a single `_id` in constant time, but
every `update` and `delete` (even by `_id`) and every other filter reads the whole collection.
So the hot path only inserts and reads by `_id`:
- `flows_pending`: one document per flow not yet terminal, inserted at receipt (with its
  IN_RECU and IN_EN_ATTENTE_TRAITEMENT events), deleted in batches once the flow is terminal
  and its events are on Kafka. It stays as small as the flows in progress (bounded by
  `max_in_flight`), so its deletes stay cheap;
- `flows`: the terminal record of each flow, inserted once (`_id` = flow number: the unique
  insert is what makes the terminal status happen exactly once), with the events it causes.
Only operator re-runs (rare) update `flows`, by compare-and-set on `tentative`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from chorale_intake.domain.flow import Flow
from chorale_runtime.mongo import IndexSpec

PENDING = "flows_pending"
FLOWS = "flows"

# Serve the operators' filters on MongoDB (FerretDB 1.24 scans whatever the indexes).
INDEXES = (
    IndexSpec(FLOWS, (("dateDepot", -1),)),
    IndexSpec(FLOWS, (("structurePartenaire", 1), ("dateDepot", -1))),
    IndexSpec(FLOWS, (("statut", 1), ("dateDepot", -1))),
)


DUPLICATE_KEY = 11000


def _duplicates(exc: BulkWriteError) -> set[int]:
    """Indexes of the documents refused as duplicates; re-raise anything else."""
    errors = exc.details.get("writeErrors", [])
    if any(e.get("code") != DUPLICATE_KEY for e in errors):
        raise exc
    return {e["index"] for e in errors}


async def insert_new(collection: Any, docs: Sequence[dict[str, Any]]) -> list[bool]:
    """Insert every document whose `_id` is new: True where inserted, False for duplicates."""
    if not docs:
        return []
    try:
        await collection.insert_many(list(docs), ordered=False)
        return [True] * len(docs)
    except BulkWriteError as exc:
        refused = _duplicates(exc)
        return [i not in refused for i in range(len(docs))]


class FlowStore:
    def __init__(self, db: AsyncDatabase):
        self._pending = db[PENDING]
        self._flows = db[FLOWS]

    # -- writes ---------------------------------------------------------------------------
    async def add_pending(self, flows: Sequence[Flow]) -> list[bool]:
        """Record received flows; False where the number was already recorded."""
        return await insert_new(self._pending, [f.to_document() for f in flows])

    async def add_terminal(self, flows: Sequence[Flow]) -> list[bool]:
        """Record terminal flows; False where the flow already has its terminal record."""
        return await insert_new(self._flows, [f.to_document() for f in flows])

    async def replace_terminal(self, flow: Flow, previous_attempt: int) -> bool:
        """A re-run's terminal record replaces the incident it re-ran (compare-and-set)."""
        result = await self._flows.replace_one(
            {"_id": flow.number, "tentative": previous_attempt}, flow.to_document()
        )
        return result.modified_count == 1

    async def forget_pending(self, numbers: Iterable[str]) -> None:
        ids = list(numbers)
        if ids:
            await self._pending.delete_many({"_id": {"$in": ids}})

    async def count_recovery(self, numbers: Sequence[str]) -> None:
        if numbers:
            await self._pending.update_many(
                {"_id": {"$in": list(numbers)}}, {"$inc": {"recoveries": 1}}
            )

    async def take_over(self, flow: Flow, owner: str) -> bool:
        """Claim a flow another replica left unfinished (compare-and-set on owner)."""
        result = await self._pending.update_one(
            {"_id": flow.number, "owner": flow.owner, "recoveries": flow.recoveries},
            {"$set": {"owner": owner}, "$inc": {"recoveries": 1}},
        )
        return result.modified_count == 1

    # -- reads ----------------------------------------------------------------------------
    async def terminal(self, number: str) -> Flow | None:
        doc = await self._flows.find_one({"_id": number})
        return Flow.from_document(doc) if doc else None

    async def pending(self, number: str) -> Flow | None:
        doc = await self._pending.find_one({"_id": number})
        return Flow.from_document(doc) if doc else None

    async def get(self, number: str) -> Flow | None:
        """The current state: a pending re-run supersedes the incident it re-runs."""
        terminal, pending = await asyncio.gather(self.terminal(number), self.pending(number))
        if pending is not None and (terminal is None or pending.tentative > terminal.tentative):
            return pending
        return terminal

    async def pending_of(self, owner: str) -> list[Flow]:
        docs = await self._pending.find({"owner": owner}).to_list(None)
        return [Flow.from_document(d) for d in docs]

    async def pending_before(self, moment: datetime) -> list[Flow]:
        docs = await self._pending.find({"dateStatut": {"$lt": moment}}).to_list(None)
        return [Flow.from_document(d) for d in docs]

    async def count_pending(self) -> int:
        return await self._pending.count_documents({})

    async def search(
        self, criteria: dict[str, Any], *, skip: int, limit: int
    ) -> tuple[int, list[Flow]]:
        """Flows matching `criteria`, newest first: the total and one page. Memory holds the
        page and the flows in progress, never the whole history."""
        pending = [
            Flow.from_document(d)
            for d in await self._pending.find({}, {"events": 0}).to_list(None)
        ]
        # A re-run in progress supersedes the incident it re-runs.
        superseded = [f.number for f in pending if f.tentative > 1]
        matching = await self._pending.find(criteria, {"_id": 1}).to_list(None)
        matching_ids = {d["_id"] for d in matching}
        pending = [f for f in pending if f.number in matching_ids]
        terminal_criteria = {**criteria, "_id": {"$nin": superseded}} if superseded else criteria
        total = await self._flows.count_documents(terminal_criteria) + len(pending)
        cursor = (
            self._flows.find(terminal_criteria, {"events": 0})
            .sort([("dateDepot", -1), ("_id", -1)])
            .limit(skip + limit)
        )
        terminal = [Flow.from_document(d) async for d in cursor]
        latest: dict[str, Flow] = {f.number: f for f in pending}
        for flow in terminal:  # a terminal record wins over its not-yet-forgotten pending one
            if flow.number not in latest or latest[flow.number].tentative <= flow.tentative:
                latest[flow.number] = flow
        merged = sorted(latest.values(), key=lambda f: (f.dateDepot, f.number), reverse=True)
        return total, merged[skip : skip + limit]
