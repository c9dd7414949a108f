"""The authz read model on the real database: per-grant versions (late or replayed events never
undo a newer state), and two processes' caches kept coherent by the change feed."""

import asyncio
import time

import pytest
from pymongo import AsyncMongoClient

from chorale_contracts.events.common import Application, Mode
from chorale_contracts.events.habilitations import (
    HabilitationChanged,
    HabilitationGranted,
    HabilitationRevoked,
)
from chorale_runtime.authz import AuthzReadModel
from chorale_runtime.serialized import SerializedDatabase

pytestmark = pytest.mark.integration
FR = Application.FACTURES_RECUES


def event(cls, version, mode=Mode.CONSULTATION, **extra):
    return cls(grantId="g1", userId="alice", structure="S1", application=FR, mode=mode,
               version=version, **extra)


async def modes(model: AuthzReadModel) -> list[str]:
    grants, _ = await model.user("alice")
    return [g.mode.value for g in grants]


async def test_stale_and_replayed_grant_events_are_ignored(infra, namespace):
    client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    model = AuthzReadModel(SerializedDatabase(client[namespace.database("authz")]), cache=False)
    try:
        await model.put_grant(event(HabilitationGranted, 1))
        await model.put_grant(event(HabilitationChanged, 2, Mode.MODIFICATION,
                                    previousMode=Mode.CONSULTATION))
        await model.put_grant(event(HabilitationGranted, 1))          # replay
        assert await modes(model) == ["MODIFICATION"]
        await model.remove_grant(event(HabilitationRevoked, 3, Mode.MODIFICATION))
        await model.put_grant(event(HabilitationChanged, 2, Mode.MODIFICATION,
                                    previousMode=Mode.CONSULTATION))  # late
        assert await modes(model) == []
        await model.put_grant(event(HabilitationGranted, 4))          # granted again
        assert await modes(model) == ["CONSULTATION"]
        await model.remove_grant(event(HabilitationRevoked, 2))       # a revocation before it
        assert await modes(model) == ["CONSULTATION"]
        await model.deactivate_user("alice")
        assert (await model.user("alice"))[1] is True
        assert await model.gestionnaire_principal("S1") is None
        await model.set_gestionnaire("S1", "bob")
        assert await model.gestionnaire_principal("S1") == "bob"
    finally:
        await client.close()


async def test_a_change_applied_by_one_replica_reaches_the_other_replicas_cache(
    infra, namespace
):
    """Two processes (two clients), one consumer group: only replica A consumes the event."""
    a_client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    b_client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    name = namespace.database("authz")
    a = AuthzReadModel(SerializedDatabase(a_client[name]))
    b = AuthzReadModel(SerializedDatabase(b_client[name]))
    try:
        await a.put_grant(event(HabilitationGranted, 1))
        await b.cache.wait_following()
        assert await modes(b) == ["CONSULTATION"]
        assert await modes(b) == ["CONSULTATION"]
        hits = b.cache.cache.hits
        assert hits >= 1  # served from memory
        started = time.monotonic()
        await a.remove_grant(event(HabilitationRevoked, 2))
        while await modes(b):
            assert time.monotonic() - started < 2.0, "replica B still allows after 2 s"
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        assert await modes(a) == []  # and the writer's own cache at once
        print(f"revocation seen by the other replica after {elapsed * 1000:.0f} ms")
        await a.set_gestionnaire("S1", "carol")
        while await b.gestionnaire_principal("S1") != "carol":
            assert time.monotonic() - started < 4.0
            await asyncio.sleep(0.01)
    finally:
        await a_client.close()
        await b_client.close()


async def test_the_structures_of_a_gestionnaire_follow_designations_and_transfers(
    infra, namespace
):
    client = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    db = SerializedDatabase(client[namespace.database("gps")])
    try:
        # GP records written before the per-user lists existed: found by a scan, then listed.
        await db["authz_gestionnaires"].insert_many([{"_id": "S1", "userId": "dora"},
                                                     {"_id": "S2", "userId": "dora"},
                                                     {"_id": "S3", "userId": "ed"}])
        model = AuthzReadModel(db, cache=False)
        assert sorted(await model.structures_of_gestionnaire("dora")) == ["S1", "S2"]
        await model.fill_gestionnaires_by_user()
        assert await db["authz_gestionnaires_by_user"].find_one({"_id": "dora"}) is not None
        assert sorted(await model.structures_of_gestionnaire("dora")) == ["S1", "S2"]

        await model.set_gestionnaire("S3", "dora")  # transferred from ed
        await model.set_gestionnaire("S4", "ed")    # designated
        assert sorted(await model.structures_of_gestionnaire("dora")) == ["S1", "S2", "S3"]
        assert await model.structures_of_gestionnaire("ed") == ["S4"]
        # A stale entry (a replayed transfer skips the former GP) is never shown.
        await db["authz_gestionnaires_by_user"].update_one(
            {"_id": "ed"}, {"$addToSet": {"structures": "S1"}})
        assert await model.structures_of_gestionnaire("ed") == ["S4"]
        # Another process of the same database reads the lists once they were filled.
        other = AuthzReadModel(db, cache=False)
        await other.fill_gestionnaires_by_user()
        assert sorted(await other.structures_of_gestionnaire("dora")) == ["S1", "S2", "S3"]
        assert await other.structures_of_gestionnaire("nobody") == []
    finally:
        await client.close()
