"""The intake's read models of the directory and of technical accounts: complete before /ready,
rebuilt from the database after a restart, newest version wins, poison events parked."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaProducer

from chorale_contracts import Topic, dlq_topic, topic_name
from chorale_intake.bootstrap import build_app
from chorale_runtime.testing.kafka_probe import collect, eventually
from chorale_runtime.testing.servers import serve_in_process, wait_ready

pytestmark = pytest.mark.integration

STRUCTURES = 150


def siret(i: int) -> str:
    return f"{30000000000000 + i:014d}"


async def test_ready_only_once_the_directory_is_complete(infra, namespace, intake_settings, kit):
    snapshots = [kit.snapshot(siret(i), version=1) for i in range(STRUCTURES)]
    newer = kit.snapshot(siret(0), version=3, services=[kit.service("NOUVEAU")])
    older = kit.snapshot(siret(0), version=2)  # arrives last, must be ignored
    await kit.publish(infra, namespace, Topic.DIRECTORY,
                      [kit.envelope(s, s.identifiant) for s in [*snapshots, newer, older]])
    await kit.publish(infra, namespace, Topic.IDENTITY, [kit.account_created("ta-1")])

    app = build_app(intake_settings)
    async with serve_in_process(app) as base:
        await wait_ready(base)
        directory = app.state.intake["directory"]
        assert len(directory) == STRUCTURES  # ready means caught up
        entry = directory.get(siret(0))
        assert entry is not None and entry.service("NOUVEAU") is not None
        assert directory.version(siret(0)) == 3
        assert app.state.intake["accounts"].get("ta-1").structure == kit.SUPPLIER

    # A restart (same instance) starts from the database, then its committed offsets.
    again = build_app(intake_settings)
    async with serve_in_process(again) as base:
        await wait_ready(base)
        directory = again.state.intake["directory"]
        assert len(directory) == STRUCTURES and directory.version(siret(0)) == 3
        await kit.publish(infra, namespace, Topic.DIRECTORY,
                          [kit.envelope(kit.snapshot(siret(1), version=2, public=False),
                                        siret(1))])
        await eventually(lambda: directory.version(siret(1)) == 2)
        assert directory.get(siret(1)).is_public is False

    # Another replica (its own consumer group) holds the whole directory too.
    replica = build_app(intake_settings.model_copy(update={"instance_id": "replica-2"}))
    async with serve_in_process(replica) as base:
        await wait_ready(base)
        assert len(replica.state.intake["directory"]) == STRUCTURES


async def test_a_poison_snapshot_goes_to_the_dead_letter_topic(
    infra, namespace, intake_settings, kit
):
    app = build_app(intake_settings)
    async with serve_in_process(app) as base:
        await kit.seed(infra, namespace)
        await wait_ready(base)
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
        await producer.start()
        try:
            good = kit.envelope(kit.snapshot(siret(7)), siret(7)).model_dump(mode="json")
            good["payload"]["typeStructure"] = "PAS_UN_TYPE"
            await producer.send_and_wait(
                topic_name(Topic.DIRECTORY, namespace.topic_prefix),
                json.dumps(good).encode(), key=siret(7).encode())
        finally:
            await producer.stop()
        parked = await collect(
            infra.kafka_bootstrap,
            dlq_topic(topic_name(Topic.DIRECTORY, namespace.topic_prefix)),
            until=lambda evs: len(evs) >= 1,
        )
        assert parked[0].key == siret(7)
        assert app.state.intake["directory"].get(siret(7)) is None
