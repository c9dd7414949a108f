"""Invoices in the database, written for FerretDB 1.24 as much as for MongoDB.

- `invoices`: one document per invoice, `_id` = invoice id: its fields, status, version,
  history, and its outbox (the `invoice.status_changed` events of the change, written by the
  same single-document operation). Every read and write of the hot path is by `_id`; a
  change is a compare-and-set on `version` (`runtime.db` serializes it within the process).
- `outbox_marks`: the ids of invoices whose outbox may hold events, inserted before the write
  that adds them and deleted once they are relayed. The relay's own sweep looks for pending
  outboxes with a filter, which FerretDB answers by reading the whole collection (≈10 s for
  100,000 invoices here): the marks keep that scan to the handful of invoices in flight.

Lists never query this collection: see `list_index` (and the MongoDB indexes below, for a
deployment on MongoDB that would query it directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chorale_contracts import Envelope
from chorale_invoices.domain.invoice import Invoice
from chorale_runtime.mongo import IndexSpec, is_duplicate_key
from chorale_runtime.outbox import OUTBOX_FIELD, new_document, with_events

INVOICES = "invoices"
MARKS = "outbox_marks"
ATTACHMENTS = "attachments"

INDEXES = (
    IndexSpec(INVOICES, (("destinataire", 1), ("dateDepot", -1))),
    IndexSpec(INVOICES, (("destinataire", 1), ("codeService", 1), ("dateDepot", -1))),
    IndexSpec(INVOICES, (("destinataire", 1), ("statut", 1), ("dateDepot", -1))),
    IndexSpec(INVOICES, (("fournisseur", 1), ("dateDepot", -1))),
)

_ROW_FIELDS = ("invoiceId", "numeroFacture", "dateFacture", "dateDepot", "destinataire",
               "codeService", "numeroEngagement", "fournisseur", "raisonSocialeFournisseur",
               "montantTTC", "devise", "statut", "dateStatut", "version", "historique.statut")


def _document(invoice: Invoice) -> dict[str, Any]:
    return {"_id": invoice.invoiceId, **invoice.model_dump(mode="json")}


def from_document(doc: dict[str, Any]) -> Invoice:
    return Invoice.model_validate(doc)


class InvoiceStore:
    def __init__(self, db: Any, notify: Callable[[str, Any], None]):
        self._db = db
        self._invoices = db[INVOICES]
        self._marks = db[MARKS]
        self._notify = notify

    async def _mark(self, invoice_id: str) -> None:
        try:
            await self._marks.insert_one({"_id": invoice_id, "at": datetime.now(UTC)})
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def get(self, invoice_id: str) -> Invoice | None:
        doc = await self._invoices.find_one({"_id": invoice_id}, {OUTBOX_FIELD: 0})
        return from_document(doc) if doc else None

    async def insert(self, invoice: Invoice, events: Sequence[Envelope]) -> bool:
        """False if the invoice is already there (a replayed event)."""
        await self._mark(invoice.invoiceId)
        try:
            await self._invoices.insert_one(new_document(_document(invoice), events))
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        self._notify(INVOICES, invoice.invoiceId)
        return True

    async def replace(self, invoice: Invoice, expected_version: int,
                      events: Sequence[Envelope]) -> bool:
        """Compare-and-set: False if the stored version is no longer `expected_version`."""
        await self._mark(invoice.invoiceId)
        body = _document(invoice)
        body.pop("_id")
        result = await self._invoices.update_one(
            {"_id": invoice.invoiceId, "version": expected_version},
            with_events({"$set": body}, events),
        )
        if result.modified_count != 1:
            return False
        self._notify(INVOICES, invoice.invoiceId)
        return True

    async def rows(self) -> AsyncIterator[dict[str, Any]]:
        """Every invoice's list fields (start-up load of the list index: one pass)."""
        projection = {f: 1 for f in _ROW_FIELDS}
        async for doc in self._invoices.find({}, projection):
            yield doc

    # -- outbox marks ------------------------------------------------------------------------
    async def settle_marks(self, older_than: timedelta = timedelta(seconds=5)) -> int:
        """Re-notify the relay for marked invoices still holding events (a crash, Kafka down);
        drop the marks of those relayed. Returns how many were re-notified."""
        cutoff = datetime.now(UTC) - older_than
        marks = [m async for m in self._marks.find({})]
        renotified = 0
        for mark in marks:
            at = mark.get("at")
            if isinstance(at, datetime) and at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            if at is not None and at > cutoff:
                continue
            doc = await self._invoices.find_one({"_id": mark["_id"]}, {OUTBOX_FIELD: 1})
            if doc and doc.get(OUTBOX_FIELD):
                self._notify(INVOICES, mark["_id"])
                renotified += 1
            else:
                await self._marks.delete_one({"_id": mark["_id"]})
        return renotified

    async def run_mark_sweeper(self, interval: float) -> None:
        while True:
            await self.settle_marks()
            await asyncio.sleep(interval)


class AttachmentStore:
    """The supplier's attachments (≤ 4 MB each), in the invoices database, `_id` = piece id."""

    def __init__(self, db: Any):
        self._col = db[ATTACHMENTS]

    async def put(self, piece_id: str, invoice_id: str, content: bytes, meta: dict[str, Any]
                  ) -> None:
        try:
            await self._col.insert_one({"_id": piece_id, "invoiceId": invoice_id,
                                        "contenu": content, **meta})
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def get(self, piece_id: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": piece_id})
