"""Suivi des flux aggregates: status changes counted per hour (stored) and per day (summed at
read time), per partner, with the rejection codes; series are zero-filled so a dashboard can
chart them as they come."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
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
