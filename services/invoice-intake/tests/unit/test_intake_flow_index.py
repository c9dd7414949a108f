"""The « Suivi des flux » list in memory: filters, newest first, paging totals, re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorale_intake.adapters.flow_index import FlowIndex
from chorale_intake.domain.flow_query import FlowQuery, FlowRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(n: int, partner: str = "P1", status: str = "IN_INTEGRE", channel: str = "EDI",
        account: str = "ta-1", attempt: int = 1) -> FlowRow:
    deposited = T0 + timedelta(minutes=n)
    number = f"FLX20260101-{n:026d}"
    return FlowRow.of_summary({
        "numeroFluxDepot": number, "canal": channel, "technicalAccountId": account,
        "structurePartenaire": partner, "nomFichier": f"f{n}.xml",
        "syntaxeFlux": "IN_DP_E1_UBL_INVOICE", "statut": status,
        "dateDepot": deposited.isoformat().replace("+00:00", "Z"),
        "dateStatut": deposited.isoformat().replace("+00:00", "Z"), "tentative": attempt,
        "codesErreur": []})


def numbers(rows) -> list[int]:
    return [int(r.numeroFluxDepot.rsplit("-", 1)[1]) for r in rows]


def test_a_partners_flows_newest_first_with_the_total_of_every_match():
    index = FlowIndex()
    index.load([row(n, partner="P1" if n % 2 else "P2") for n in range(1, 101)])
    total, page = index.search(FlowQuery(partner="P1"), exclude=frozenset(), limit=3)
    assert total == 50 and numbers(page) == [99, 97, 95]
    total, page = index.search(FlowQuery(), exclude=frozenset(), limit=200)
    assert total == 100 and numbers(page) == list(range(100, 0, -1))


def test_every_filter_narrows_the_list():
    index = FlowIndex()
    index.load([row(1, status="IN_REJETE"), row(2, channel="API"), row(3, account="ta-2"),
                row(4), row(5, status="IN_INCIDENTE")])
    cases = {
        FlowQuery(statuses=frozenset({"IN_REJETE", "IN_INCIDENTE"})): [5, 1],
        FlowQuery(channel="API"): [2],
        FlowQuery(account="ta-2"): [3],
        FlowQuery(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)): [3, 2],
        FlowQuery(partner="P9"): [],
    }
    for query, expected in cases.items():
        total, page = index.search(query, exclude=frozenset(), limit=10)
        assert (total, numbers(page)) == (len(expected), expected), query


def test_a_re_run_replaces_the_incident_and_is_left_out_while_in_progress():
    index = FlowIndex()
    index.load([row(1, status="IN_INCIDENTE"), row(2)])
    index.put(row(1, status="IN_INTEGRE", attempt=2))
    index.put(row(1, status="IN_INCIDENTE", attempt=1))  # a slower writer's older state
    total, page = index.search(FlowQuery(statuses=frozenset({"IN_INTEGRE"})),
                               exclude=frozenset(), limit=10)
    assert total == 2 and numbers(page) == [2, 1]
    excluded = frozenset({row(1).numeroFluxDepot})
    assert index.search(FlowQuery(), exclude=excluded, limit=10)[0] == 1


def test_the_database_query_says_the_same_filters():
    query = FlowQuery(partner="P1", account="ta-1", statuses=frozenset({"IN_REJETE"}),
                      channel="EDI", since=T0, until=T0 + timedelta(days=1))
    assert query.to_mongo(exclude=["FLX-1"]) == {
        "structurePartenaire": "P1", "technicalAccountId": "ta-1",
        "statut": {"$in": ["IN_REJETE"]}, "canal": "EDI",
        "dateDepot": {"$gte": T0, "$lt": T0 + timedelta(days=1)}, "_id": {"$nin": ["FLX-1"]}}
    assert all(query.matches(r) is False for r in (row(1, partner="P2"), row(1, channel="API")))
