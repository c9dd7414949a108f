"""Invoices in the database, written for FerretDB 1.24 as much as for MongoDB.

- `invoices`: one document per invoice, `_id` = invoice id: its fields, status, version,
  history, and its outbox (the `invoice.status_changed` events of the change, written by the
  same single-document operation). Every read and write of the hot path is by `_id`; a
  change is a compare-and-set on `version` (`runtime.db` serializes it within the process).
- `invoices` is not swept by the outbox relay: its sweep looks for pending outboxes with a
  filter, which FerretDB answers by reading the whole collection (≈10 s for 100,000 invoices
  here), every few seconds. Events are relayed when the writer notifies the relay (kept in
  its dirty set until Kafka takes them); after a crash, the one pass that loads the list
  index at start-up also finds the invoices whose outbox still holds events (`rows`).

Lists never query this collection: see `list_index`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from chorale_contracts import Envelope
from chorale_invoices.domain.invoice import Invoice
from chorale_runtime.mongo import IndexSpec, insert_once
from chorale_runtime.outbox import OUTBOX_FIELD, new_document, with_events

INVOICES = "invoices"
ATTACHMENTS = "attachments"

# No secondary index: nothing here filters on anything but `_id` (the lists are served from
# memory), and FerretDB would maintain them on every write without ever using them.
INDEXES: tuple[IndexSpec, ...] = ()

_ROW_FIELDS = ("invoiceId", "numeroFacture", "dateFacture", "dateDepot", "destinataire",
               "codeService", "numeroEngagement", "fournisseur", "raisonSocialeFournisseur",
               "montantTTC", "devise", "statut", "dateStatut", "version", "historique.statut",
               OUTBOX_FIELD)


def _document(invoice: Invoice) -> dict[str, Any]:
    return {"_id": invoice.invoiceId, **invoice.model_dump(mode="json")}


def from_document(doc: dict[str, Any]) -> Invoice:
    return Invoice.model_validate(doc)


class InvoiceStore:
    def __init__(self, db: Any, notify: Callable[[str, Any], None]):
        self._db = db
        self._invoices = db[INVOICES]
        self._notify = notify

    async def get(self, invoice_id: str) -> Invoice | None:
        doc = await self._invoices.find_one({"_id": invoice_id}, {OUTBOX_FIELD: 0})
        return from_document(doc) if doc else None

    async def insert(self, invoice: Invoice, events: Sequence[Envelope]) -> bool:
        """False if the invoice is already there (a replayed event)."""
        if not await insert_once(self._invoices, new_document(_document(invoice), events)):
            return False
        self._notify(INVOICES, invoice.invoiceId)
        return True

    async def replace(self, invoice: Invoice, expected_version: int,
                      events: Sequence[Envelope]) -> bool:
        """Compare-and-set: False if the stored version is no longer `expected_version`."""
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
        """Every invoice's list fields (start-up load of the list index: one pass); an invoice
        whose outbox still holds events (a crash before the relay took them) is handed to the
        relay on the way."""
        projection = {f: 1 for f in _ROW_FIELDS}
        async for doc in self._invoices.find({}, projection):
            if doc.get(OUTBOX_FIELD):
                self._notify(INVOICES, doc["_id"])
            yield doc


class AttachmentStore:
    """The supplier's attachments (≤ 4 MB each), in the invoices database, `_id` = piece id."""

    def __init__(self, db: Any):
        self._col = db[ATTACHMENTS]

    async def put(self, piece_id: str, invoice_id: str, content: bytes, meta: dict[str, Any]
                  ) -> None:
        await insert_once(self._col, {"_id": piece_id, "invoiceId": invoice_id,
                                      "contenu": content, **meta})

    async def get(self, piece_id: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": piece_id})
