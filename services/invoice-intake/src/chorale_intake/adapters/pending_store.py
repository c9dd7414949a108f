"""Where received flows wait for their terminal status: insert-only, dropped a generation at a
time.

FerretDB 1.24 (SQLite) runs an `insert` cheaply, and a `find`, `update` or `delete` by one `_id`
too with the one-line fix `deploy/local` builds it with; but a `delete_many` by `$in` reads the
whole collection (docs/MEASUREMENTS.md), and
one delete per flow doubles the writes of the hot path. So a flow is never deleted on its own:
each service instance writes its received flows into generations,
`flows_pending_<instance>_<gen>` collections (a new one every `generation_size` flows or
`generation_age` seconds), marks flows finished there with one small insert per announced
batch, and drops a whole generation (constant time) once none of its flows is still in
progress. After a crash, the instance's remaining generations hold everything that may be
unfinished: a bounded amount to re-read, whatever the history.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_intake.adapters.inserts import insert_new
from chorale_intake.domain.flow import Flow
from chorale_runtime.mongo import is_duplicate_key

PREFIX = "flows_pending_"
FINISHED = "fin:"  # `_id` prefix of a marker listing flows finished together
FINISHED_KEYS = "fini"
INSTANCES = "intake_instances"
TAKEOVERS = "pending_takeovers"


def attempt_key(number: str, attempt: int) -> str:
    """Waiting records are per attempt: an operator re-run waits beside the first attempt."""
    return f"{number}:{attempt}"


def finished_keys(docs: Iterable[dict[str, Any]]) -> set[str]:
    """Attempt keys marked finished among a generation's documents: listed by one marker per
    announced batch, or (as earlier versions wrote them) one `<key>:fin` marker per flow."""
    done: set[str] = set()
    for doc in docs:
        if FINISHED_KEYS in doc:
            done.update(doc[FINISHED_KEYS])
        elif doc.get("fin"):
            done.add(doc["_id"].removesuffix(":fin"))
    return done


def instance_tag(instance: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", instance)[:32] or "0"


class PendingStore:
    def __init__(self, db: AsyncDatabase, instance: str, *, generation_size: int = 2000,
                 generation_age: float = 30.0):
        self._db = db
        self._instance = instance
        self._tag = instance_tag(instance)
        self._size = generation_size
        self._age = generation_age
        self._current: int | None = None
        self._current_flows = 0
        self._current_since = 0.0
        self._open: dict[int, int] = {}  # generation -> flows not yet terminal
        self._where: dict[str, int] = {}  # flow number -> its generation

    def _name(self, generation: int) -> str:
        return f"{PREFIX}{self._tag}_{generation}"

    def _generation(self) -> int:
        now = time.monotonic()
        if (self._current is None or self._current_flows >= self._size
                or now - self._current_since >= self._age):
            generation = max(time.time_ns() // 1000, (self._current or 0) + 1)
            self._current, self._current_flows, self._current_since = generation, 0, now
            self._open.setdefault(generation, 0)
        return self._current

    async def add(self, flows: Sequence[Flow]) -> list[bool]:
        """Record received flows; False where the flow was already recorded (by an attempt
        of this very call that failed after writing: numbers are never shared, so the flows
        are this instance's all the same and count as waiting)."""
        generation = self._generation()
        inserted = await insert_new(self._db[self._name(generation)],
                                    [f.to_document(attempt_key(f.number, f.tentative))
                                     for f in flows])
        for flow in flows:
            if flow.number not in self._where:
                self._where[flow.number] = generation
                self._open[generation] += 1
        self._current_flows += len(flows)
        return inserted

    async def finished(self, flows: Sequence[Flow]) -> None:
        """These flows are terminal and announced: mark them so in their generation (for a
        restart), then drop every generation left with none in progress. One marker document
        per generation lists them (FerretDB's cost is per document written)."""
        by_generation: dict[int, list[str]] = {}
        for flow in flows:
            generation = self._where.get(flow.number)
            if generation is not None:
                by_generation.setdefault(generation, []).append(
                    attempt_key(flow.number, flow.tentative))
        for generation, keys in by_generation.items():
            # Same batch, same `_id`: a retried announcement writes it once.
            await insert_new(self._db[self._name(generation)],
                             [{"_id": f"{FINISHED}{keys[0]}", FINISHED_KEYS: keys}])
        for flow in flows:
            generation = self._where.pop(flow.number, None)
            if generation is not None:
                self._open[generation] -= 1
        for generation, left in list(self._open.items()):
            if left <= 0 and generation != self._current:
                await self._db.drop_collection(self._name(generation))
                del self._open[generation]

    @property
    def waiting(self) -> int:
        return len(self._where)

    # -- reads ------------------------------------------------------------------------------
    async def collections(self, *, mine: bool | None = None) -> list[str]:
        names = [n for n in await self._db.list_collection_names() if n.startswith(PREFIX)]
        own = f"{PREFIX}{self._tag}_"
        if mine is True:
            return [n for n in names if n.startswith(own)]
        if mine is False:
            return [n for n in names if not n.startswith(own)]
        return names

    async def find(self, number: str, attempt: int) -> Flow | None:
        """The waiting record of one attempt at `number`, wherever it is."""
        generation = self._where.get(number)
        names = ([self._name(generation)] if generation is not None
                 else await self.collections())
        for name in names:
            doc = await self._db[name].find_one({"_id": attempt_key(number, attempt)})
            if doc:
                return Flow.from_document(doc)
        return None

    async def read(self, name: str, criteria: dict[str, Any] | None = None) -> list[Flow]:
        """The waiting flows of a generation (not those marked finished)."""
        docs = [d async for d in self._db[name].find(criteria or {})]
        done = finished_keys(docs)
        return [Flow.from_document(d) for d in docs if "corps" in d and d["_id"] not in done]

    async def numbers(self, name: str, criteria: dict[str, Any]) -> set[str]:
        found = self._db[name].find(criteria, {"numeroFluxDepot": 1})
        return {d["numeroFluxDepot"] async for d in found if "numeroFluxDepot" in d}

    async def leftovers(self, names: Sequence[str]) -> list[Flow]:
        """Every flow of these generations not marked finished, once (the most recovered)."""
        best: dict[str, Flow] = {}
        for name in names:
            for flow in await self.read(name):
                known = best.get(flow.number)
                if known is None or (flow.tentative, flow.recoveries) > (known.tentative,
                                                                         known.recoveries):
                    best[flow.number] = flow
        return list(best.values())

    async def drop(self, names: Iterable[str]) -> None:
        for name in names:
            await self._db.drop_collection(name)

    # -- replicas ---------------------------------------------------------------------------
    async def heartbeat(self) -> None:
        """Say this instance is alive (one tiny document per instance: cheap to update)."""
        await self._db[INSTANCES].update_one(
            {"_id": self._tag}, {"$set": {"at": datetime.now(UTC)}}, upsert=True
        )

    async def claimed_by_me(self) -> list[str]:
        """Generations this instance took over and may not have finished (it crashed)."""
        existing = set(await self.collections(mine=False))
        return [d["_id"] async for d in self._db[TAKEOVERS].find({"by": self._tag})
                if d["_id"] in existing]

    async def abandoned(self, before: datetime) -> list[str]:
        """Generations of instances silent since `before`, claimed for this instance."""
        alive = {d["_id"] async for d in self._db[INSTANCES].find({"at": {"$gte": before}})}
        claimed = []
        for name in await self.collections(mine=False):
            tag = name.removeprefix(PREFIX).rsplit("_", 1)[0]
            if tag in alive:
                continue
            try:
                await self._db[TAKEOVERS].insert_one({"_id": name, "by": self._tag,
                                                      "at": datetime.now(UTC)})
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                continue  # another replica took it
            claimed.append(name)
        return claimed
