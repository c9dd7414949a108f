"""On the real database: concurrent updates of one document lose nothing through the
serialized database, and the outbox's writer/relay race keeps every event."""

import asyncio

import pytest
from pymongo import AsyncMongoClient

from chorale_runtime.serialized import SerializedDatabase

pytestmark = pytest.mark.integration


async def test_concurrent_increments_of_one_document_all_count(infra, namespace):
    client = AsyncMongoClient(infra.mongodb_uri)
    db = SerializedDatabase(client[namespace.database("serialized")])
    try:
        await db.counters.insert_one({"_id": "c", "n": 0})
        await asyncio.gather(*[
            db.counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for _ in range(200)
        ])
        await asyncio.gather(*[
            db.counters.update_many({"kind": {"$exists": False}}, {"$inc": {"n": 1}})
            for _ in range(20)
        ], *[db.counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for _ in range(20)])
        assert (await db.counters.find_one({"_id": "c"}))["n"] == 240
    finally:
        await client.close()


async def test_compare_and_set_lets_exactly_one_writer_win(infra, namespace):
    client = AsyncMongoClient(infra.mongodb_uri)
    db = SerializedDatabase(client[namespace.database("serialized")])
    try:
        await db.things.insert_one({"_id": "t", "version": 1, "owner": None})
        results = await asyncio.gather(*[
            db.things.update_one({"_id": "t", "version": 1},
                                 {"$set": {"owner": f"w{i}"}, "$inc": {"version": 1}})
            for i in range(30)
        ])
        assert sum(r.modified_count for r in results) == 1
        assert (await db.things.find_one({"_id": "t"}))["version"] == 2
    finally:
        await client.close()


async def test_pushes_racing_with_pullall_lose_no_entry(infra, namespace):
    client = AsyncMongoClient(infra.mongodb_uri)
    db = SerializedDatabase(client[namespace.database("serialized")])
    try:
        await db.agg.insert_one({"_id": "a", "outbox": []})
        relayed: list[int] = []

        async def writer(i: int) -> None:
            await db.agg.update_one({"_id": "a"}, {"$push": {"outbox": {"$each": [{"n": i}]}}})

        async def relay() -> None:
            for _ in range(40):
                doc = await db.agg.find_one({"_id": "a"})
                if doc["outbox"]:
                    relayed.extend(e["n"] for e in doc["outbox"])
                    await db.agg.update_one({"_id": "a"}, {"$pullAll": {"outbox": doc["outbox"]}})
                await asyncio.sleep(0)

        await asyncio.gather(relay(), *[writer(i) for i in range(100)])
        left = (await db.agg.find_one({"_id": "a"}))["outbox"]
        assert sorted(relayed + [e["n"] for e in left]) == list(range(100))
    finally:
        await client.close()


async def test_compare_and_set_filters_keep_mongodb_semantics(infra, namespace):
    client = AsyncMongoClient(infra.mongodb_uri)
    db = SerializedDatabase(client[namespace.database("serialized")])
    try:
        await db.cas.insert_one({"_id": "d", "version": 1, "flag": True, "state": "A"})
        miss = [
            {"_id": "d", "version": 2},
            {"_id": "d", "flag": 1},  # a boolean is not the number 1
            {"_id": "d", "state": "B"},
            {"_id": "d", "missing": "x"},
            {"_id": "absent", "version": 1},
        ]
        for f in miss:
            assert (await db.cas.update_one(f, {"$set": {"hit": str(f)}})).modified_count == 0
        hit = await db.cas.update_one(
            {"_id": "d", "version": 1, "flag": True, "state": "A", "missing": None},
            {"$set": {"state": "B"}, "$inc": {"version": 1}},
        )
        assert (hit.matched_count, hit.modified_count) == (1, 1)
        assert await db.cas.find_one({"_id": "d"}) == {
            "_id": "d", "version": 2, "flag": True, "state": "B"}
    finally:
        await client.close()
