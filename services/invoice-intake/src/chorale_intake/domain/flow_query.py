"""« Suivi des flux » filters as one value: tested against a flow's list row in memory (the
list index, the flows in progress), or turned into the database query (MongoDB's indexes).
Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chorale_intake.domain.flow import Flow


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One flow as the list shows it (`summary`, Flow.summary: JSON values), and what the
    filters and the sort read."""

    numeroFluxDepot: str
    canal: str
    technicalAccountId: str
    structurePartenaire: str
    statut: str
    dateDepot: datetime
    tentative: int
    summary: dict[str, Any]

    @classmethod
    def of(cls, flow: Flow) -> FlowRow:
        return cls.of_summary(flow.summary(), flow.dateDepot)

    @classmethod
    def of_summary(cls, summary: dict[str, Any], deposited: datetime | None = None) -> FlowRow:
        if deposited is None:
            deposited = datetime.fromisoformat(summary["dateDepot"].replace("Z", "+00:00"))
        if deposited.tzinfo is None:
            deposited = deposited.replace(tzinfo=UTC)
        return cls(
            numeroFluxDepot=summary["numeroFluxDepot"], canal=summary["canal"],
            technicalAccountId=summary["technicalAccountId"],
            structurePartenaire=summary["structurePartenaire"], statut=summary["statut"],
            dateDepot=deposited, tentative=int(summary.get("tentative") or 1),
            summary=summary)

    @property
    def order(self) -> tuple[datetime, str]:
        """Newest first: by deposit date, then number (a ULID: time-ordered)."""
        return self.dateDepot, self.numeroFluxDepot


@dataclass(frozen=True)
class FlowQuery:
    partner: str | None = None
    account: str | None = None
    statuses: frozenset[str] = frozenset()
    channel: str | None = None
    since: datetime | None = None  # dateDepot ≥ since
    until: datetime | None = None  # dateDepot < until

    def matches(self, row: FlowRow) -> bool:
        if self.partner is not None and row.structurePartenaire != self.partner:
            return False
        if self.account is not None and row.technicalAccountId != self.account:
            return False
        if self.statuses and row.statut not in self.statuses:
            return False
        if self.channel is not None and row.canal != self.channel:
            return False
        if self.since is not None and row.dateDepot < self.since:
            return False
        return self.until is None or row.dateDepot < self.until

    def to_mongo(self, exclude: Iterable[str] = ()) -> dict[str, Any]:
        criteria: dict[str, Any] = {}
        if self.partner is not None:
            criteria["structurePartenaire"] = self.partner
        if self.account is not None:
            criteria["technicalAccountId"] = self.account
        if self.statuses:
            criteria["statut"] = {"$in": sorted(self.statuses)}
        if self.channel is not None:
            criteria["canal"] = self.channel
        period = {k: v for k, v in (("$gte", self.since), ("$lt", self.until)) if v is not None}
        if period:
            criteria["dateDepot"] = period
        excluded = list(exclude)
        if excluded:
            criteria["_id"] = {"$nin": excluded}
        return criteria
