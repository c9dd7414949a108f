"""The relay's bookkeeping with in-memory fakes (the real broker and database are exercised by
the integration tests): a write that lands while its document is being relayed is not lost."""

import asyncio

from chorale_runtime.outbox import OutboxRelay


class FakeCollection:
    def __init__(self, docs):
        self.docs = docs

    async def find_one(self, filter_, projection=None):
        doc = self.docs.get(filter_["_id"])
        return None if doc is None else {"_id": doc["_id"], "outbox": list(doc["outbox"])}

    async def update_one(self, filter_, update):
        doc = self.docs[filter_["_id"]]
        gone = update["$pullAll"]["outbox"]
        doc["outbox"] = [e for e in doc["outbox"] if e not in gone]


class FakeDb(dict):
    def __getitem__(self, name):
        return dict.__getitem__(self, name)


class GatedProducer:
    def __init__(self):
        self.sent = []
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def send_batch(self, messages):
        self.entered.set()
        await self.gate.wait()
        self.sent.extend(m.value.decode() for m in messages)


def entry(n):
    return {"event_id": f"e{n}", "topic": "chorale.structures.v1", "key": "k",
            "value": f'{{"event_type": "structure.updated", "correlation_id": "c", "n": {n}}}'}


async def test_a_write_during_its_documents_relay_is_relayed_too():
    docs = {"s1": {"_id": "s1", "outbox": [entry(1)]}}
    producer = GatedProducer()
    relay = OutboxRelay(FakeDb(structures=FakeCollection(docs)), ["structures"], producer,
                        service="t")
    relay.notify("structures", "s1")
    flushing = asyncio.create_task(relay.flush())
    await producer.entered.wait()
    docs["s1"]["outbox"].append(entry(2))  # the service writes again meanwhile
    relay.notify("structures", "s1")
    producer.gate.set()
    await flushing
    assert [('"n": 2' in v) for v in producer.sent] == [False, True]
    assert docs["s1"]["outbox"] == []
    assert await relay.wait_idle(0.1)
