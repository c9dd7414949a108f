"""The walking skeleton on the real broker and database: structures writes a structure and its
`structure.created` event in one document, the outbox relay publishes it, notifications records
it once — across consumer restarts and publisher crashes."""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

import httpx
import pytest
from stdnum import luhn

from chorale_contracts import Topic, new_envelope, topic_name
from chorale_contracts.events.structures import StructureCreated
from chorale_notifications.bootstrap import build_app as build_notifications
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.testing.kafka_probe import collect, eventually
from chorale_runtime.testing.plugin import service_env, settings_for
from chorale_runtime.testing.servers import ServiceProcess, free_port, serve_in_process
from chorale_runtime.testing.tokens import TokenFactory
from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.bootstrap import build_app as build_structures
from chorale_structures.domain import Structure
from chorale_structures.settings import StructuresSettings

pytestmark = pytest.mark.integration
TOKENS = TokenFactory()


def supplier() -> dict[str, str]:
    """Creating a structure needs a signed-in user (fresh token: tokens expire)."""
    return TOKENS.headers("supplier-1")


def make_siret(rng: random.Random) -> str:
    """A valid SIRET: a Luhn-valid SIREN, then an establishment number, Luhn over all 14."""
    siren = "".join(str(rng.randint(0, 9)) for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    base = siren + "".join(str(rng.randint(0, 9)) for _ in range(4))
    return base + luhn.calc_check_digit(base)


def structures_app(infra, namespace, **kw):
    return build_structures(settings_for(StructuresSettings, infra, namespace, **kw),
                            verifier=TOKENS.verifier())


def notifications_app(infra, namespace, **kw):
    return build_notifications(settings_for(NotificationsSettings, infra, namespace, **kw))


async def post_structure(client: httpx.AsyncClient, base: str, siret: str) -> None:
    response = await client.post(
        f"{base}/v1/structures",
        json={"identifiant": siret, "raisonSociale": f"Fournisseur {siret}",
              "typeStructure": "PRIVEE"},
        headers=supplier(),
    )
    assert response.status_code == 201, response.text


async def known_structures(mongo_client, namespace) -> list[dict]:
    db = mongo_client[namespace.database("notifications")]
    return await db.known_structures.find({}).to_list(None)


async def test_a_created_structure_reaches_kafka_and_notifications(infra, namespace, mongo_client):
    siret = make_siret(random.Random(1))
    async with serve_in_process(structures_app(infra, namespace)) as structures, \
            serve_in_process(notifications_app(infra, namespace)):
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{structures}/v1/structures",
                json={"identifiant": siret, "raisonSociale": "ACME", "typeStructure": "PRIVEE"},
                headers={"X-Correlation-ID": "corr-skeleton-1", **supplier()},
            )
            assert response.status_code == 201, response.text
            assert response.headers["X-Correlation-ID"] == "corr-skeleton-1"
        events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.STRUCTURES, namespace.topic_prefix),
            until=lambda evs: any(e.key == siret for e in evs),
        )
        created = next(e for e in events if e.key == siret)
        assert created.event_type == "structure.created"
        assert created.payload["raisonSociale"] == "ACME"
        assert created.correlation_id == "corr-skeleton-1"
        docs = await eventually(lambda: known_structures(mongo_client, namespace))
        assert [(d["_id"], d["raisonSociale"], d["sourceEventId"]) for d in docs] == [
            (siret, "ACME", str(created.event_id))
        ]


async def test_a_duplicate_structure_is_refused_with_a_stable_code(infra, namespace):
    siret = make_siret(random.Random(2))
    async with serve_in_process(structures_app(infra, namespace)) as base:
        async with httpx.AsyncClient() as client:
            await post_structure(client, base, siret)
            again = await client.post(f"{base}/v1/structures",
                                      json={"identifiant": siret, "raisonSociale": "Autre"},
                                      headers=supplier())
            invalid = await client.post(f"{base}/v1/structures",
                                        json={"identifiant": "12345678901234",
                                              "raisonSociale": "X"}, headers=supplier())
    assert again.status_code == 409 and again.json()["code"] == "STRUCTURE_EXISTS"
    assert invalid.json()["code"] == "SIRET_INVALID"


async def test_consumer_restarted_while_events_flow_records_each_once(
    infra, namespace, mongo_client
):
    rng = random.Random(3)
    sirets = [make_siret(rng) for _ in range(60)]
    async with serve_in_process(structures_app(infra, namespace)) as structures:
        async with httpx.AsyncClient() as client:

            async def produce() -> None:
                for siret in sirets:
                    await post_structure(client, structures, siret)
                    await asyncio.sleep(0.02)

            producer = asyncio.create_task(produce())
            for _ in range(2):  # stop and restart the consumer twice mid-stream
                async with serve_in_process(notifications_app(infra, namespace)):
                    await asyncio.sleep(0.6)
                await asyncio.sleep(0.3)
            await producer
            async with serve_in_process(notifications_app(infra, namespace)):
                docs = await eventually(
                    lambda: _when_count(known_structures(mongo_client, namespace), 60),
                    timeout=60,
                )
    assert sorted(d["_id"] for d in docs) == sorted(sirets)
    db = mongo_client[namespace.database("notifications")]
    # Other groups of notifications mark other events (directory snapshots...): count these.
    marks = await db.processed_events.count_documents({"type": "structure.created"})
    assert marks == 60  # each event settled exactly once by the group


async def test_a_consumer_killed_hard_mid_stream_still_records_each_once(
    infra, namespace, mongo_client, tmp_path: Path
):
    rng = random.Random(4)
    sirets = [make_siret(rng) for _ in range(40)]
    env = service_env(infra, namespace, "notifications")
    async with serve_in_process(structures_app(infra, namespace)) as structures:
        async with httpx.AsyncClient() as client:
            consumer = ServiceProcess("chorale_notifications", env, free_port(),
                                      tmp_path / "n1.log").start()
            for siret in sirets[:20]:
                await post_structure(client, structures, siret)
            await eventually(lambda: _when_count(known_structures(mongo_client, namespace), 5),
                             timeout=60)
            consumer.signal(signal.SIGKILL)
            consumer.wait(10)
            for siret in sirets[20:]:
                await post_structure(client, structures, siret)
            again = ServiceProcess("chorale_notifications", env, free_port(),
                                   tmp_path / "n2.log").start()
            try:
                docs = await eventually(
                    lambda: _when_count(known_structures(mongo_client, namespace), 40),
                    timeout=90,
                )
            finally:
                again.terminate()
                assert again.stopped_gracefully(), again.logs()[-3000:]
    assert sorted(d["_id"] for d in docs) == sorted(sirets)


async def test_events_written_before_a_publisher_crash_are_relayed_on_restart(
    infra, namespace, mongo_client
):
    """The crash window: state and event are in the database, nothing reached Kafka yet."""
    siret = make_siret(random.Random(5))
    db = mongo_client[namespace.database("structures")]
    event = new_envelope(
        StructureCreated(identifiant=siret, typeIdentifiant="SIRET", typeStructure="PRIVEE",
                         raisonSociale="Écrit avant la panne"),
        key=siret, producer="structures",
    )
    # Exactly what the service writes, without the relay running: a crash right after.
    structure = Structure(identifiant=siret, typeStructure="PRIVEE",
                          raisonSociale="Écrit avant la panne")
    await StructureStore(db).insert(StoredStructure(structure, {}), [event])
    assert len((await db.structures.find_one({"_id": siret}))["outbox"]) == 1

    async with serve_in_process(structures_app(infra, namespace)):
        events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.STRUCTURES, namespace.topic_prefix),
            until=lambda evs: any(e.event_id == event.event_id for e in evs),
        )
        await eventually(lambda: _outbox_empty(db, siret))
    assert [e.event_id for e in events].count(event.event_id) >= 1


async def _when_count(docs_coro, n: int):
    docs = await docs_coro
    return docs if len(docs) >= n else None


async def _outbox_empty(db, siret) -> bool:
    doc = await db.structures.find_one({"_id": siret})
    return doc is not None and doc.get("outbox") == []
