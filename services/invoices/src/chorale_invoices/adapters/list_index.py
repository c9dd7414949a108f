"""The lists' index, in memory: every invoice's list row, grouped by recipient and by supplier.

Why in memory: FerretDB 1.24 serves only `{"_id": x}` from an index; any other filter reads
the whole collection: seconds for a count among 100,000 invoices (docs/MEASUREMENTS.md). The
service therefore loads the rows once at start-up (one pass, readiness waits for it) and
updates them on every write it makes, which is sound because one process owns a service
database on FerretDB (docs/SERVICE_GUIDE.md). Memory grows with the number of invoices (a row
is under a kilobyte). A deployment that outgrows memory would run on MongoDB and query the
collection with indexes on (destinataire, codeService, statut, dateDepot) and (fournisseur,
dateDepot) instead: not built, see docs/statuses.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from chorale_invoices.domain.invoice import Invoice
from chorale_invoices.domain.listing import Row
from chorale_invoices.domain.statuses import Status


def row_of(invoice: Invoice) -> Row:
    return Row(
        invoiceId=invoice.invoiceId, numeroFacture=invoice.numeroFacture,
        dateFacture=invoice.dateFacture, dateDepot=invoice.dateDepot,
        destinataire=invoice.destinataire, codeService=invoice.codeService,
        numeroEngagement=invoice.numeroEngagement, fournisseur=invoice.fournisseur,
        raisonSocialeFournisseur=invoice.raisonSocialeFournisseur,
        montantTTC=invoice.montantTTC, devise=invoice.devise, statut=invoice.statut,
        dateStatut=invoice.dateStatut.isoformat(), version=invoice.version,
        statuts=tuple(invoice.statuses()),
    )


def row_of_document(doc: dict[str, Any]) -> Row:
    return Row(
        invoiceId=doc["invoiceId"], numeroFacture=doc["numeroFacture"],
        dateFacture=doc["dateFacture"], dateDepot=doc["dateDepot"],
        destinataire=doc["destinataire"], codeService=doc.get("codeService"),
        numeroEngagement=doc.get("numeroEngagement"), fournisseur=doc["fournisseur"],
        raisonSocialeFournisseur=doc.get("raisonSocialeFournisseur"),
        montantTTC=doc.get("montantTTC"), devise=doc.get("devise"),
        statut=Status(doc["statut"]), dateStatut=str(doc["dateStatut"]),
        version=int(doc["version"]),
        statuts=tuple(Status(s["statut"]) for s in doc.get("historique", ())),
    )


Bucket = tuple[str | None, Status]  # (code service, status)


class ListIndex:
    """Rows by recipient, then by (service, status): the filters an agent uses most (its
    services, a status) pick whole buckets instead of testing every row of the structure; by
    supplier, a flat map (its own invoices only)."""

    def __init__(self) -> None:
        self._by_recipient: dict[str, dict[Bucket, dict[str, Row]]] = {}
        self._by_supplier: dict[str, dict[str, Row]] = {}
        self._rows: dict[str, Row] = {}
        self.loaded = False

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, row: Row) -> None:
        old = self._rows.get(row.invoiceId)
        if old is not None:
            if old.version > row.version:
                return  # a slower writer's older state
            buckets = self._by_recipient[old.destinataire]
            bucket = buckets[(old.codeService, old.statut)]
            bucket.pop(old.invoiceId, None)
            if not bucket:
                del buckets[(old.codeService, old.statut)]
        self._rows[row.invoiceId] = row
        buckets = self._by_recipient.setdefault(row.destinataire, {})
        buckets.setdefault((row.codeService, row.statut), {})[row.invoiceId] = row
        self._by_supplier.setdefault(row.fournisseur, {})[row.invoiceId] = row

    def load(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.put(row)
        self.loaded = True

    def received(self, recipient: str, services: frozenset[str | None] | None = None,
                 statuts: frozenset[Status] | None = None) -> Iterator[Row]:
        """The recipient's rows, narrowed to `services` and `statuts` when given."""
        for (service, status), bucket in self._by_recipient.get(recipient, {}).items():
            if services is not None and service not in services:
                continue
            if statuts and status not in statuts:
                continue
            yield from bucket.values()

    def issued(self, supplier: str) -> Iterable[Row]:
        return self._by_supplier.get(supplier, {}).values()
