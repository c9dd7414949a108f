"""The pipeline (admission, a flow's way from its receipt to its end, retries, incidents) and
the CR writer, with fakes (no I/O but the CR files of a temporary folder)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from chorale_contracts.events.common import FlowStatus
from chorale_intake.adapters.cr_output import CrOutput
from chorale_intake.adapters.edi_folders import EdiFolders
from chorale_intake.domain.flow import Etape, Flow
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_runtime.retry import Backoff, RetryPolicy
from chorale_runtime.testing.kafka_probe import eventually

NOW = datetime(2024, 6, 14, 9, 30, tzinfo=UTC)


def flow(number: str, statut: FlowStatus = FlowStatus.IN_EN_ATTENTE_TRAITEMENT) -> Flow:
    return Flow(
        numeroFluxDepot=number, canal="EDI", technicalAccountId="ta", structurePartenaire="s",
        nomFichier=f"{number}.xml", statut=statut, dateDepot=NOW, dateStatut=NOW,
        historique=(Etape(statut=statut, date=NOW),), tailleOctets=1, empreinteSha256="a",
        archive="x", correlationId=number,
    )


def ended(work) -> Flow:
    return work.flow.model_copy(update={"statut": FlowStatus.IN_INTEGRE})


class FakeProcessor:
    """Fails every flow whose number is in `failing`; concludes the others."""

    def __init__(self, failing: set[str], journal: list[str]):
        self.failing = failing
        self.journal = journal

    async def process(self, works):
        failed = [w for w in works if w.number in self.failing]
        for work in failed:
            work.failure = "boom"
        self.journal += [f"process {w.number}" for w in works]
        return [ended(w) for w in works if w.number not in self.failing], failed


class FakeRecords:
    """Terminal records in memory; writing fails while `broken`."""

    def __init__(self, journal: list[str]):
        self.journal = journal
        self.broken = 0
        self.written: dict[str, Flow] = {}

    async def write(self, terminal):
        if self.broken:
            self.broken -= 1
            raise ConnectionError("database away")
        self.journal += [f"record {f.number} {f.statut.value}" for f in terminal]
        self.written.update((f.number, f) for f in terminal)
        return list(terminal)

    async def mark_finished(self, flows):
        self.journal += [f"finished {f.number}" for f in flows]


class FakeAnnouncer:
    def __init__(self, journal: list[str]):
        self.journal = journal

    async def received(self, flows, *, stopping):
        self.journal += [f"received {f.number}" for f in flows]
        return True

    def in_progress(self, flows, *, started):
        self.journal += [f"in progress {f.number}" for f in flows]

    async def terminal(self, flows):
        self.journal += [f"terminal {f.number}" for f in flows]


def pipeline_with(failing: set[str], *, max_in_flight: int = 10, batch_size: int = 10,
                  concurrency: int = 2) -> tuple[Pipeline, FakeRecords, list[str]]:
    journal: list[str] = []
    records = FakeRecords(journal)
    pipeline = Pipeline(
        FakeProcessor(failing, journal), records=records,  # type: ignore[arg-type]
        announcer=FakeAnnouncer(journal),  # type: ignore[arg-type]
        batch_size=batch_size, max_in_flight=max_in_flight, concurrency=concurrency,
        retry=RetryPolicy(2, 0.01, 0.02), backoff=Backoff(0.01, 0.02),
    )
    return pipeline, records, journal


async def test_admission_bounds_the_flows_in_progress():
    pipeline, records, _ = pipeline_with(set(), max_in_flight=3, batch_size=2, concurrency=1)
    assert await pipeline.reserve(5) == 3  # never more than the free slots
    assert not pipeline.try_reserve()
    await pipeline.enter([flow("a"), flow("b"), flow("c")])
    assert pipeline.free() == 0
    runner = asyncio.create_task(pipeline.run())
    assert await asyncio.wait_for(pipeline.reserve(1), 2) == 1  # freed as flows end
    await pipeline.unreserve(1)
    await eventually(lambda: pipeline.free() == 3)
    assert sorted(records.written) == ["a", "b", "c"]
    await pipeline.stop(1)
    runner.cancel()
    assert not pipeline.try_reserve()  # stopping: the API answers 503


async def test_a_flow_goes_one_way_from_its_receipt_to_its_end():
    pipeline, _, journal = pipeline_with(set())
    assert await pipeline.reserve(1) == 1
    await pipeline.enter([flow("a")])
    runner = asyncio.create_task(pipeline.run())
    await eventually(lambda: pipeline.free() == 10)  # the slot is freed last
    assert journal == ["received a", "in progress a", "process a", "record a IN_INTEGRE",
                       "terminal a", "finished a"]
    await pipeline.stop(1)
    await pipeline.drain(1)
    runner.cancel()


async def test_nothing_is_announced_before_the_terminal_record_is_written():
    pipeline, records, journal = pipeline_with(set())
    records.broken = 1  # the first write fails: the flow is retried, then recorded
    assert await pipeline.reserve(1) == 1
    await pipeline.enter([flow("a")])
    runner = asyncio.create_task(pipeline.run())
    await eventually(lambda: pipeline.free() == 10)
    assert journal == ["received a", "in progress a", "process a", "process a",
                       "record a IN_INTEGRE", "terminal a", "finished a"]
    await pipeline.stop(1)
    runner.cancel()


async def test_technical_failures_are_retried_then_the_flow_is_an_incident():
    pipeline, records, journal = pipeline_with({"bad"})
    assert await pipeline.reserve(2) == 2
    await pipeline.enter([flow("bad"), flow("good")])
    runner = asyncio.create_task(pipeline.run())
    await eventually(lambda: not pipeline.in_flight)
    assert records.written["bad"].statut is FlowStatus.IN_INCIDENTE
    assert records.written["good"].statut is FlowStatus.IN_INTEGRE
    assert journal.count("process bad") == 3  # the first attempt and two retries
    assert journal.index("terminal bad") < journal.index("finished bad")
    await pipeline.stop(1)
    runner.cancel()


async def test_cr_latest_state_wins_and_terminal_crs_are_written_at_once(tmp_path):
    folders = EdiFolders(tmp_path, 1)
    folders.ensure("ta")
    output = CrOutput(folders, delay=0.2)
    writer = asyncio.create_task(output.run())
    await asyncio.sleep(0)
    output.later([flow("f1"), flow("f2")])
    output.later([flow("f1", FlowStatus.IN_EN_COURS_TRAITEMENT)])
    await output.now([flow("f2", FlowStatus.IN_INTEGRE)])
    cr = folders.outbox("ta")
    assert json.loads((cr / "f2.cr.json").read_bytes())["statut"] == "IN_INTEGRE"
    assert not (cr / "f1.cr.json").exists()  # not due yet
    await asyncio.sleep(0.35)
    assert json.loads((cr / "f1.cr.json").read_bytes())["statut"] == "IN_EN_COURS_TRAITEMENT"
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    await output.now([flow("f3", FlowStatus.IN_REJETE)])  # no writer: written directly
    assert (cr / "f3.cr.json").exists()
