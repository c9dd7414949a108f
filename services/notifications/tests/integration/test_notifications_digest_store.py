"""The digest store on the real database: a notice added while its digest is being flushed is
never stranded (it opens the next digest, which falls due)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chorale_notifications.adapters.notice_digests import NoticeDigests

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def window(at: datetime) -> datetime:
    return at + timedelta(seconds=2)


def notice(n: int) -> dict:
    return {"at": NOW + timedelta(seconds=n), "ligne": f"flux {n}", "correlationId": f"c-{n}"}


async def test_a_notice_added_while_its_digest_is_flushed_falls_due_in_the_next_one(
        mongo_client, namespace):
    digests = NoticeDigests(mongo_client[namespace.database("notifications")])
    await digests.add("u-1", "FLUX_REJETE", {"e-1": notice(1)}, NOW, window)
    [flushing] = await digests.due(LATER)

    # The flush closes the digest between the add's read of it and the add's write.
    collection = digests._col
    read = collection.find_one

    async def read_then_flush(*args, **kwargs):
        collection.find_one = read  # once: the flush reads too
        found = await read(*args, **kwargs)
        await digests.clear(flushing, NOW, window)
        return found

    collection.find_one = read_then_flush
    assert await digests.add("u-1", "FLUX_REJETE", {"e-2": notice(2)}, NOW, window) == 1

    [next_digest] = await digests.due(LATER)
    assert list(next_digest["items"]) == ["e-2"]
    assert next_digest["dueAt"] is not None
