"""The consumer inbox on the real database: a poll's events claimed in one insert, duplicates
refused by the unique `_id`, a record's own earlier claim (an interrupted run) honoured."""

import pytest
from pymongo import AsyncMongoClient

from chorale_runtime.inbox import Claim, Inbox
from chorale_runtime.serialized import SerializedDatabase

pytestmark = pytest.mark.integration


async def test_claims_refuse_events_taken_before_except_by_the_same_record(infra, namespace):
    client = AsyncMongoClient(infra.mongodb_uri)
    db = SerializedDatabase(client[namespace.database("inbox")])
    try:
        inbox, other_group = Inbox(db, "g"), Inbox(db, "h")
        first = [Claim(f"e{i}", "t", f"topic|0|{i}") for i in range(5)]
        assert await inbox.claim(first) == {f"e{i}" for i in range(5)}
        again = [
            Claim("e1", "t", "topic|0|1"),   # the same record, redelivered after a crash
            Claim("e2", "t", "topic|0|9"),   # the same event published again, later
            Claim("e7", "t", "topic|0|10"),  # a new one
        ]
        assert await inbox.claim(again) == {"e1", "e7"}
        assert await other_group.claim([Claim("e2", "t", "topic|0|9")]) == {"e2"}
        assert await db.processed_events.count_documents({}) == 7
    finally:
        await client.close()
