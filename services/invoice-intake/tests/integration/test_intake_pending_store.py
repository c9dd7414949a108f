"""Pending generations on the real database: what a restart re-reads after flows were marked
finished a batch at a time, and the per-flow markers earlier versions wrote."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from chorale_contracts.events.common import FlowStatus
from chorale_intake.adapters.pending_store import PendingStore, attempt_key
from chorale_intake.domain.flow import Etape, Flow
from chorale_intake.domain.numbering import flow_number

pytestmark = pytest.mark.integration


def waiting(partner: str = "73282932000074") -> Flow:
    now = datetime.now(UTC)
    return Flow(
        numeroFluxDepot=flow_number(now, os.urandom(10)), canal="EDI", technicalAccountId="ta-1",
        structurePartenaire=partner, nomFichier="f.xml",
        statut=FlowStatus.IN_EN_ATTENTE_TRAITEMENT, dateDepot=now, dateStatut=now,
        historique=(Etape(statut=FlowStatus.IN_EN_ATTENTE_TRAITEMENT, date=now),),
        tailleOctets=10, empreinteSha256="0" * 64, archive="a", correlationId="c",
    )


async def test_a_restart_rereads_only_the_flows_not_marked_finished(mongo_client, namespace):
    db = mongo_client[namespace.database("invoice-intake")]
    store = PendingStore(db, "instance-1")
    flows = [waiting() for _ in range(6)]
    await store.add(flows[:4])
    await store.add(flows[4:])
    [name] = await store.collections(mine=True)  # one generation: all six are in it

    await store.finished(flows[:3])
    await store.finished(flows[:3])  # an announcement retried: marked once, nothing breaks
    await store.finished(flows[3:4])
    assert len(await db[name].find({"fini": {"$exists": True}}).to_list()) == 2

    restarted = PendingStore(db, "instance-1")
    assert {f.number for f in await restarted.leftovers([name])} == {
        f.number for f in flows[4:]}
    # the operators' list reads the same generation, markers included
    assert await restarted.numbers(name, {}) == {f.number for f in flows}
    assert await restarted.numbers(name, {"structurePartenaire": "other"}) == set()


async def test_per_flow_markers_of_earlier_versions_still_count(mongo_client, namespace):
    db = mongo_client[namespace.database("invoice-intake")]
    store = PendingStore(db, "instance-2")
    flows = [waiting() for _ in range(3)]
    await store.add(flows)
    [name] = await store.collections(mine=True)
    old = flows[0]
    await db[name].insert_one({"_id": f"{attempt_key(old.number, 1)}:fin",
                               "numeroFluxDepot": old.number, "fin": True})
    await store.finished(flows[1:2])

    left = await PendingStore(db, "instance-2").leftovers([name])
    assert [f.number for f in left] == [flows[2].number]


async def test_a_generation_is_dropped_once_all_its_flows_are_finished(mongo_client, namespace):
    db = mongo_client[namespace.database("invoice-intake")]
    store = PendingStore(db, "instance-3", generation_size=2)
    first, second = [waiting() for _ in range(2)], [waiting() for _ in range(2)]
    await store.add(first)
    await store.add(second)  # the first generation is full: a new one
    assert len(await store.collections(mine=True)) == 2

    await store.finished([first[0], second[0]])
    assert len(await store.collections(mine=True)) == 2
    await store.finished([first[1]])
    [current] = await store.collections(mine=True)  # the full one, all finished, is gone
    assert {f.number for f in await store.leftovers([current])} == {second[1].number}
