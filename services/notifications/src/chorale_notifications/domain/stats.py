"""Suivi des flux aggregates: status changes counted per hour (stored) and per day (summed at
read time), per partner, with the rejection codes; series are zero-filled so a dashboard can
chart them as they come. A batch of changes is folded per bucket in memory (`fold_bucket`), so
each bucket is written once per batch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from chorale_contracts.events.common import FlowStatus

Granularity = Literal["heure", "jour"]
STEP: dict[str, timedelta] = {"heure": timedelta(hours=1), "jour": timedelta(days=1)}
MAX_POINTS = {"heure": 24 * 31, "jour": 366}
STATUSES = [s.value for s in FlowStatus]


def floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if granularity == "jour" else moment


def bucket_id(hour: datetime, partner: str) -> str:
    return f"{hour.isoformat()}|{partner}"


def safe_key(code: str) -> str:
    """Codes become field names: no dots or dollars in them."""
    return code.replace(".", "_").replace("$", "_")


def window(depuis: datetime | None, jusqua: datetime | None, granularity: Granularity,
           now: datetime) -> tuple[datetime, datetime]:
    """[start, end) aligned on buckets; the default is the last 24 hours or 30 days."""
    end = jusqua or now
    start = depuis or end - (timedelta(hours=24) if granularity == "heure" else timedelta(days=30))
    start = floor(start, granularity)
    if end != floor(end, granularity):
        end = floor(end, granularity) + STEP[granularity]
    if start >= end:
        raise ValueError("« depuis » doit précéder « jusqua ».")
    if (end - start) / STEP[granularity] > MAX_POINTS[granularity]:
        raise ValueError(
            f"Période trop longue : au plus {MAX_POINTS[granularity]} points par série."
        )
    return start, end


def _zero() -> dict[str, int]:
    return dict.fromkeys(STATUSES, 0)


def assemble(hourly: Iterable[Mapping[str, Any]], granularity: Granularity,
             start: datetime, end: datetime) -> dict[str, Any]:
    """Series over [start, end) from hourly bucket documents."""
    points: dict[datetime, dict[str, int]] = {}
    moment = start
    while moment < end:
        points[moment] = _zero()
        moment += STEP[granularity]
    partners: dict[str, dict[str, int]] = {}
    codes: Counter[str] = Counter()
    for doc in hourly:
        at = floor(doc["heure"], granularity)
        if at not in points:
            continue
        per_partner = partners.setdefault(doc["partenaire"], _zero())
        for status, n in (doc.get("statuts") or {}).items():
            points[at][status] = points[at].get(status, 0) + n
            per_partner[status] = per_partner.get(status, 0) + n
        codes.update(doc.get("codesRejet") or {})
    return {
        "granularite": granularity,
        "depuis": start,
        "jusqua": end,
        "statuts": STATUSES,
        "series": [
            {"debut": at, "parStatut": counts, "total": sum(counts.values())}
            for at, counts in points.items()
        ],
        "parPartenaire": [
            {"partenaire": p, "parStatut": c, "total": sum(c.values())}
            for p, c in sorted(partners.items())
        ],
        "codesRejet": [{"code": c, "nombre": n}
                       for c, n in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


@dataclass(frozen=True)
class CountedChange:
    """One flow status change to count, and the record it came from (`source` =
    topic|partition, `offset`): a bucket remembers the last offset it counted per source, so a
    batch replayed after a crash counts nothing twice."""

    occurred_at: datetime
    partner: str
    statut: str
    codes: tuple[str, ...]
    source: str
    offset: int


def mark_key(source: str) -> str:
    return safe_key(source).replace("|", "_")


def fold_bucket(changes: Iterable[CountedChange], marks: Mapping[str, int]
                ) -> tuple[dict[str, int], dict[str, int]]:
    """The increments of one bucket for `changes` not yet counted (offset above the bucket's
    mark for their source), and the bucket's new marks."""
    inc: dict[str, int] = {}
    new_marks: dict[str, int] = {}
    for change in changes:
        key = mark_key(change.source)
        if change.offset <= marks.get(key, -1) or change.offset <= new_marks.get(key, -1):
            continue
        new_marks[key] = change.offset
        field = f"statuts.{change.statut}"
        inc[field] = inc.get(field, 0) + 1
        for code in change.codes:
            field = f"codesRejet.{safe_key(code)}"
            inc[field] = inc.get(field, 0) + 1
    return inc, new_marks
