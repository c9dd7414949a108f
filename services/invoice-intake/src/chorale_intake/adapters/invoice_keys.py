"""Duplicate claims: one document per integrated invoice, `_id` = `duplicate_key(facts)`
(supplier, year, number), holding the flow that claimed it.

A claim is an insert (atomic everywhere): of two flows carrying the same invoice, one insert
wins. The rare cases that must change a claim (a flow re-checking its own claim after a crash
or a re-run; a flow taking over the claim of a flow that ended IN_INCIDENTE) compare-and-set on
`epoch`, so two of them can never both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from chorale_intake.adapters.inserts import insert_new

COLLECTION = "invoice_keys"


@dataclass(frozen=True)
class Claim:
    key: str
    flow: str
    epoch: int = 0


class InvoiceKeys:
    def __init__(self, db: AsyncDatabase):
        self._col = db[COLLECTION]

    async def claim(self, claims: Sequence[Claim]) -> list[bool]:
        """Insert each claim; False where the key is already held (by whoever)."""
        now = datetime.now(UTC)
        docs = [{"_id": c.key, "flow": c.flow, "epoch": 0, "at": now} for c in claims]
        return await insert_new(self._col, docs)

    async def holder(self, key: str) -> Claim | None:
        doc = await self._col.find_one({"_id": key})
        return Claim(key, doc["flow"], doc.get("epoch", 0)) if doc else None

    async def move(self, held: Claim, to_flow: str) -> bool:
        """Compare-and-set: give `held` (as read) to `to_flow` (which may be its holder)."""
        result = await self._col.update_one(
            {"_id": held.key, "flow": held.flow, "epoch": held.epoch},
            {"$set": {"flow": to_flow, "at": datetime.now(UTC)}, "$inc": {"epoch": 1}},
        )
        return result.modified_count == 1
