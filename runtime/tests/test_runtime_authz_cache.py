"""The authz cache's coherence rules, with in-memory fakes of the two collections it reads
(the real database is exercised in tests/integration/test_runtime_authz_read_model.py)."""

import asyncio

import pytest

from chorale_runtime.authz.cache import MISSING, ReadCache
from chorale_runtime.authz.changes import RING, ChangeFollower, ChangeLog, _between
from chorale_runtime.authz.coherent import CoherentCache


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def enabled(capacity=10, ttl=60.0, clock=None) -> ReadCache:
    cache = ReadCache(capacity, ttl, clock or Clock())
    cache.enabled = True
    return cache


def test_a_disabled_cache_serves_and_keeps_nothing():
    cache = ReadCache()
    t = cache.begin_read()
    assert not cache.store("u:a", 1, t)
    cache.end_read()
    assert cache.get("u:a") is MISSING


def test_a_read_overtaken_by_an_invalidation_is_not_cached():
    cache = enabled()
    started = cache.begin_read()          # read of the database begins (old state)
    cache.invalidate(["u:a"])             # the change is written and announced meanwhile
    assert not cache.store("u:a", "old", started)
    cache.end_read()
    again = cache.begin_read()            # a read begun after the invalidation sees the change
    assert cache.store("u:a", "new", again)
    cache.end_read()
    assert cache.get("u:a") == "new"


def test_invalidating_another_key_or_clearing_before_the_read_does_not_block_it():
    cache = enabled()
    cache.clear()
    started = cache.begin_read()
    cache.invalidate(["u:b"])
    assert cache.store("u:a", 1, started)
    assert not cache.store("u:b", 2, started)
    cache.clear()
    assert not cache.store("u:c", 3, started)
    cache.end_read()


def test_lru_capacity_ttl_and_invalidate_reports_what_was_cached():
    clock = Clock()
    cache = enabled(capacity=2, ttl=10, clock=clock)
    for key in ("a", "b", "c"):
        cache.store(key, key, cache.begin_read())
        cache.end_read()
    assert cache.get("a") is MISSING and cache.get("b") == "b" and len(cache) == 2
    assert cache.invalidate(["b", "zz"]) == {"b"}
    clock.now = 11
    assert cache.get("c") is MISSING  # expired


def test_ring_reading_finds_the_keys_or_reports_a_gap():
    ring = {str(s % RING): {"s": s, "k": [f"u:{s}"]} for s in range(1, 6)}
    assert _between(ring, 2, 5) == {"u:3", "u:4", "u:5"}
    assert _between(ring, 0, RING + 1) is None
    ring["4"] = {"s": 4 + RING, "k": ["u:x"]}  # slot overwritten by a later round
    assert _between(ring, 2, 5) is None


class FakeCursor:
    def __init__(self, docs):
        self._docs = docs

    async def to_list(self, _n):
        return list(self._docs)

    def __aiter__(self):
        async def gen():
            for d in self._docs:
                yield d
        return gen()


class FakeCollection:
    def __init__(self):
        self.docs: dict = {}
        self.fail = False

    def find(self, _filter=None, _projection=None):
        if self.fail:
            raise ConnectionError("database down")
        return FakeCursor(list(self.docs.values()))

    async def update_one(self, filter_, update, upsert=False):
        doc = self.docs.setdefault(filter_["_id"], {"_id": filter_["_id"], "ring": {}})
        for path, value in update["$set"].items():
            if path.startswith("ring."):
                doc["ring"][path[5:]] = value
            else:
                doc[path] = value

    async def delete_many(self, _filter):
        return None


class FakeDb:
    def __init__(self):
        self.changes = FakeCollection()

    def __getitem__(self, _name):
        return self.changes


async def test_the_follower_reports_announcements_of_every_writer_and_gaps():
    db = FakeDb()
    one, two = ChangeLog(db), ChangeLog(db)
    follower = ChangeFollower(db)
    await one.announce(["u:old"])
    assert await follower.poll() == set()  # starting point
    await one.announce(["u:a"])
    await two.announce(["g:S1", "u:b"])    # a writer that appeared after the start
    assert await follower.poll() == {"u:a", "g:S1", "u:b"}
    assert await follower.poll() == set()
    for i in range(RING + 1):
        await one.announce([f"u:{i}"])
    assert await follower.poll() is None   # more than the ring holds: lost track


class Loader:
    def __init__(self):
        self.values = {"u:a": "A1"}
        self.loads = 0
        self.gate: asyncio.Event | None = None

    async def load(self, key):
        self.loads += 1
        value = self.values.get(key)
        if self.gate is not None:
            await self.gate.wait()
        return value

    async def load_many(self, keys):
        return {k: self.values.get(k) for k in keys}

    async def load_all(self, limit):
        for item in list(self.values.items())[:limit]:
            yield item


async def test_the_coherent_cache_follows_changes_announced_by_another_replica():
    db, loader = FakeDb(), Loader()
    cache = CoherentCache(db, loader, poll_interval=0.01)
    try:
        await cache.wait_following()
        assert await cache.read("u:a") == "A1"
        assert loader.loads == 0                   # warmed in one pass
        loader.values["u:a"] = "A2"                # another replica wrote, then announced
        await ChangeLog(db).announce(["u:a"])
        for _ in range(200):
            if await cache.read("u:a") == "A2":
                break
            await asyncio.sleep(0.01)
        assert await cache.read("u:a") == "A2"
        db.changes.fail = True                     # feed unreadable: nothing served from cache
        for _ in range(200):
            if not cache.cache.enabled:
                break
            await asyncio.sleep(0.01)
        loader.values["u:a"] = "A3"
        assert await cache.read("u:a") == "A3"
    finally:
        await cache.stop()


async def test_a_slow_read_racing_a_local_invalidation_is_served_once_but_not_kept():
    db, loader = FakeDb(), Loader()
    cache = CoherentCache(db, loader, poll_interval=0.01)
    try:
        await cache.wait_following()
        loader.values["u:z"] = "old"
        loader.gate = asyncio.Event()
        slow = asyncio.create_task(cache.read("u:z"))
        await asyncio.sleep(0.02)
        loader.values["u:z"] = "new"
        cache.invalidate(["u:z"])                  # this process's consumer applied a change
        loader.gate.set()
        assert await slow == "old"
        loader.gate = None
        assert await cache.read("u:z") == "new"
    finally:
        await cache.stop()


@pytest.mark.parametrize("keys", [[], ["u:a", "u:a"]])
async def test_announce_deduplicates_and_skips_empty(keys):
    db = FakeDb()
    await ChangeLog(db).announce(keys)
    docs = list(db.changes.docs.values())
    assert [next(iter(d["ring"].values()))["k"] for d in docs] == ([["u:a"]] if keys else [])
