"""The delivery of each message by e-mail (`deliveries`, `_id` = message id): its state, the
log of every attempt, and its `notification.sent`/`notification.failed` events (outbox).

States: PENDING (due at `nextAttemptAt`) → SENDING (claimed by one dispatcher run) → SENT |
PENDING (transient failure, later) | FAILED (permanent, or attempts exhausted; an operator may
put it back to PENDING). DISABLED: the user switched e-mail off for the category."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_runtime.mongo import IndexSpec, insert_once
from chorale_runtime.outbox import with_events

DELIVERIES = "deliveries"
INDEXES = [IndexSpec(DELIVERIES, (("statut", 1), ("nextAttemptAt", 1)))]

PENDING, SENDING, SENT, FAILED, DISABLED = "PENDING", "SENDING", "SENT", "FAILED", "DISABLED"
_SUMMARY = {"text": 0, "html": 0, "outbox": 0}


class Deliveries:
    def __init__(self, db: AsyncDatabase):
        self._col = db[DELIVERIES]

    async def add(self, doc: dict[str, Any]) -> bool:
        return await insert_once(self._col, {**doc, "version": 0, "outbox": []})

    async def get(self, delivery_id: str, *, full: bool = False) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": delivery_id}, None if full else _SUMMARY)

    async def pending(self) -> list[dict[str, Any]]:
        """Every PENDING delivery: id, priority and when it is due (the dispatcher's scan)."""
        return await self._col.find(
            {"statut": PENDING}, {"_id": 1, "priorite": 1, "nextAttemptAt": 1}
        ).to_list(None)

    async def count(self, statut: str) -> int:
        return await self._col.count_documents({"statut": statut})

    async def by_status(self, statut: str, offset: int, limit: int
                        ) -> tuple[list[dict[str, Any]], int]:
        query = {"statut": statut}
        total = await self._col.count_documents(query)
        docs = await (self._col.find(query, _SUMMARY).sort("updatedAt", -1)
                      .skip(offset).limit(limit).to_list(None))
        return docs, total

    async def claim(self, delivery_id: str, run_id: str) -> dict[str, Any] | None:
        """PENDING → SENDING for this run. Serialized per document in the process, so of two
        claimants one wins (compare-and-set on `version`). Returns the document as claimed
        (its new `version`), or None."""
        doc = await self._col.find_one({"_id": delivery_id})
        if doc is None or doc["statut"] != PENDING:
            return None
        now = datetime.now(UTC)
        result = await self._col.update_one(
            {"_id": delivery_id, "version": doc["version"]},
            {"$set": {"statut": SENDING, "claimedBy": run_id, "claimedAt": now,
                      "updatedAt": now}, "$inc": {"version": 1}},
        )
        return {**doc, "version": doc["version"] + 1} if result.modified_count == 1 else None

    async def settle(self, delivery_id: str, run_id: str, version: int, set_: dict[str, Any],
                     log: dict[str, Any], events: list[Envelope]) -> bool:
        """Record one attempt's outcome (and its event) on a delivery this run claimed, still
        at the `version` its claim left (compare-and-set: one read and one write by `_id`)."""
        result = await self._col.update_one(
            {"_id": delivery_id, "version": version, "statut": SENDING, "claimedBy": run_id},
            with_events({"$set": {**set_, "updatedAt": datetime.now(UTC)},
                         "$push": {"log": log}, "$inc": {"version": 1}}, events),
        )
        return result.modified_count == 1

    async def release_abandoned(self, run_id: str) -> list[str]:
        """SENDING deliveries of a run that died (crash, kill): due again. The SMTP server may
        have taken the mail already; the resend carries the same Message-ID."""
        docs = await self._col.find({"statut": SENDING}, {"claimedBy": 1}).to_list(None)
        released = []
        now = datetime.now(UTC)
        for doc in docs:
            if doc.get("claimedBy") == run_id:
                continue
            result = await self._col.update_one(
                {"_id": doc["_id"], "statut": SENDING, "claimedBy": doc.get("claimedBy")},
                {"$set": {"statut": PENDING, "nextAttemptAt": now, "updatedAt": now},
                 "$push": {"log": {"at": now, "resultat": "REPRISE",
                                   "reponse": "envoi interrompu par un arrêt du service"}},
                 "$inc": {"version": 1}},
            )
            if result.modified_count:
                released.append(doc["_id"])
        return released

    async def requeue(self, delivery_id: str, actor: str) -> dict[str, Any] | None:
        """FAILED → PENDING, a fresh round of attempts (operator action)."""
        doc = await self._col.find_one({"_id": delivery_id}, _SUMMARY)
        if doc is None or doc["statut"] != FAILED:
            return doc
        now = datetime.now(UTC)
        await self._col.update_one(
            {"_id": delivery_id, "version": doc["version"]},
            {"$set": {"statut": PENDING, "tentatives": 0, "nextAttemptAt": now,
                      "updatedAt": now},
             "$push": {"log": {"at": now, "resultat": "RELANCE", "reponse": f"par {actor}"}},
             "$inc": {"version": 1}},
        )
        # Whatever happened (ours, or a concurrent re-send won), report the state as it is.
        return await self.get(delivery_id)
