"""Grants in MongoDB: one document per grant identity, `_id` = its deterministic grant id, the
grant's events in its own outbox. A new grant is an insert (two concurrent additions: one wins
on the `_id`), a change is a compare-and-set on `version`; a revoked grant stays, inactive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chorale_contracts import Envelope
from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain.grants import GrantChange, GrantKey, GrantState
from chorale_runtime.mongo import IndexSpec, is_duplicate_key
from chorale_runtime.outbox import new_document, with_events

COLLECTION = "grants"
INDEXES = [
    IndexSpec(COLLECTION, (("userId", 1), ("structure", 1))),
    IndexSpec(COLLECTION, (("structure", 1), ("userId", 1))),
]
Notify = Callable[[str, Any], None]


class GrantStore:
    def __init__(self, db: Any, notify: Notify | None = None):
        self._col = db[COLLECTION]
        self._notify = notify or (lambda collection, doc_id: None)

    async def get(self, grant_id: str) -> GrantState | None:
        doc = await self._col.find_one({"_id": grant_id}, {"outbox": 0})
        return _state(doc) if doc else None

    async def get_many(self, grant_ids: list[str]) -> dict[str, GrantState]:
        """One query for many grants (on FerretDB every read scans: one scan, not n)."""
        docs = await self._col.find({"_id": {"$in": grant_ids}}, {"outbox": 0}).to_list(None)
        return {d["_id"]: _state(d) for d in docs}

    async def save(self, change: GrantChange, envelope: Envelope) -> bool:
        """Store the change with its event; False if the grant changed meanwhile."""
        doc = _document(change.after)
        try:
            if change.before is None:
                await self._col.insert_one(new_document(doc, [envelope]))
            else:
                fields = {k: v for k, v in doc.items() if k != "_id"}
                result = await self._col.update_one(
                    {"_id": doc["_id"], "version": change.before.version},
                    with_events({"$set": fields}, [envelope]),
                )
                if result.modified_count != 1:
                    return False
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        self._notify(COLLECTION, doc["_id"])
        return True

    async def active(self, **criteria: Any) -> list[dict[str, Any]]:
        """Active grants matching equality criteria (userId, structure, codeService, ...)."""
        query = {"active": True, **{k: v for k, v in criteria.items() if v is not None}}
        docs = await self._col.find(query, {"outbox": 0}).to_list(None)
        return sorted(docs, key=_order)

    async def active_states(self, **criteria: Any) -> list[GrantState]:
        return [_state(d) for d in await self.active(**criteria)]


def _order(doc: dict[str, Any]) -> tuple:
    return (doc["structure"], doc.get("codeService") or "", doc["userId"],
            list(Application).index(Application(doc["application"])))


def _document(state: GrantState) -> dict[str, Any]:
    k = state.key
    return {
        "_id": state.grant_id,
        "userId": k.user_id,
        "structure": k.structure,
        "codeService": k.code_service,
        "application": Application(k.application).value,
        "mode": Mode(state.mode).value,
        "active": state.active,
        "reason": state.reason,
        "actor": state.actor,
        "version": state.version,
        "updatedAt": datetime.now(UTC),
    }


def _state(doc: dict[str, Any]) -> GrantState:
    key = GrantKey(doc["userId"], doc["structure"], doc.get("codeService"),
                   Application(doc["application"]))
    return GrantState(key, Mode(doc["mode"]), bool(doc["active"]), doc["reason"],
                      doc.get("actor"), int(doc["version"]))
