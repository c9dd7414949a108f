"""An import interrupted between writing a batch and publishing its events (or recording its
progress) resumes at that batch: every structure exists once, with its events, and replayed
events carry the same ids (consumers de-duplicate them)."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chorale_contracts import Topic, topic_name
from chorale_runtime.publishing import EventPublisher
from chorale_runtime.serialized import SerializedDatabase
from chorale_runtime.testing.kafka_probe import collect
from chorale_structures.adapters.import_jobs import ImportFiles, ImportJobs
from chorale_structures.adapters.structure_store import StructureStore
from chorale_structures.service_layer.import_runner import ImportWorker

pytestmark = pytest.mark.integration


class Crash(Exception):
    pass


async def _worker(db, publish, folder: Path, batch_size: int = 4) -> ImportWorker:
    return ImportWorker(ImportJobs(db), ImportFiles(folder, 10**7), StructureStore(db), publish,
                        batch_size=batch_size, max_detailed=100)


@pytest.mark.parametrize("crash_after_publishing", [False, True])
async def test_a_crash_between_batch_and_checkpoint_loses_and_doubles_nothing(
    infra, namespace, mongo_client, tmp_path, crash_after_publishing, make_siret
):
    sirets = [make_siret() for _ in range(10)]
    lines = ["type;identifiant;raisonSociale;codeService;libelle;dateDebutActivation"]
    for s in sirets:
        lines += [f"STRUCTURE;{s};COMMUNE {s};;;", f"SERVICE;{s};;ACHATS;Achats;2025-01-01"]
    db = SerializedDatabase(mongo_client[namespace.database("structures")])
    publisher = EventPublisher.bulk(infra.kafka_bootstrap, "test-import-resume",
                                    service="structures", topic_prefix=namespace.topic_prefix)
    try:
        calls = 0

        async def flaky(envelopes):
            nonlocal calls
            calls += 1
            if calls == 3:  # the third batch: structures written, then the process dies
                if crash_after_publishing:
                    await publisher.publish(envelopes)
                raise Crash
            await publisher.publish(envelopes)

        folder = tmp_path / "imports"
        first = await _worker(db, flaky, folder)
        folder.mkdir()
        files = ImportFiles(folder, 10**7)
        files.path("job").write_text("\n".join(lines) + "\n")
        await first.jobs.create("job", requester="op", correlation_id="c", filename=None,
                                size=1, batch_size=4, now=datetime.now(UTC))
        with pytest.raises(Crash):
            await first.run_job("job")
        job = await first.jobs.get("job")
        assert (job["statut"], job["lignesTraitees"]) == ("EN_COURS", 8)

        second = await _worker(db, publisher.publish, folder, batch_size=50)  # size is kept
        await second.run_job("job")
        job = await second.jobs.get("job")
        assert job["statut"] == "TERMINE"
        assert job["lignesTraitees"] == 20
        assert job["creees"] + job["inchangees"] == 20 and job["rejetees"] == 0
        docs = await db["structures"].find({}).to_list(None)
        assert sorted(d["_id"] for d in docs) == sorted(sirets)
        assert all(len(d["services"]) == 2 and d["outbox"] == [] for d in docs)

        events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.STRUCTURES, namespace.topic_prefix),
            until=lambda evs: {e.key for e in evs if e.event_type == "structure.created"}
            >= set(sirets),
        )
        created = {}
        for e in events:
            if e.event_type == "structure.created":
                created.setdefault(e.key, set()).add(e.event_id)
        assert all(len(ids) == 1 for ids in created.values()), created  # replays: same id
        snapshots = await collect(
            infra.kafka_bootstrap, topic_name(Topic.DIRECTORY, namespace.topic_prefix),
            until=lambda evs: {e.key for e in evs} >= set(sirets),
        )
        assert {len(s.payload["services"]) for s in snapshots} == {2}
    finally:
        await publisher.close()


async def test_a_stopped_worker_leaves_the_job_to_resume(namespace, mongo_client, tmp_path,
                                                         make_siret):
    db = SerializedDatabase(mongo_client[namespace.database("structures")])
    published, stopping = [], []

    async def publish(envelopes):
        published.extend(envelopes)
        if len(published) > 10 and not stopping:
            stopping.append(asyncio.create_task(worker.stop(timeout=5)))  # as at SIGTERM

    folder = tmp_path / "imports"
    folder.mkdir()
    worker = await _worker(db, publish, folder, batch_size=2)
    sirets = [make_siret() for _ in range(12)]
    worker.files.path("job").write_text(
        "identifiant;raisonSociale\n" + "".join(f"{s};COMMUNE {s}\n" for s in sirets)
    )
    await worker.jobs.create("job", requester="op", correlation_id="c", filename=None,
                             size=1, batch_size=2, now=datetime.now(UTC))
    await worker.run_job("job")
    await stopping[0]
    job = await worker.jobs.get("job")
    assert job["statut"] == "EN_COURS" and 0 < job["lignesTraitees"] < 12
    again = await _worker(db, publish, folder)
    await again.run_job("job")
    job = await again.jobs.get("job")
    assert (job["statut"], job["creees"], job["lignesTraitees"]) == ("TERMINE", 12, 12)
    assert not worker.files.path("job").exists()
