"""The pipeline (admission, retries, incidents) and the CR writer, with fakes (no I/O but the
CR files of a temporary folder)."""

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
from chorale_runtime.consumer import RetryPolicy

NOW = datetime(2024, 6, 14, 9, 30, tzinfo=UTC)


def flow(number: str, statut: FlowStatus = FlowStatus.IN_EN_ATTENTE_TRAITEMENT) -> Flow:
    return Flow(
        numeroFluxDepot=number, canal="EDI", technicalAccountId="ta", structurePartenaire="s",
        nomFichier=f"{number}.xml", statut=statut, dateDepot=NOW, dateStatut=NOW,
        historique=(Etape(statut=statut, date=NOW),), tailleOctets=1, empreinteSha256="a",
        archive="x", correlationId=number,
    )


class FakeProcessor:
    """Fails every flow whose number is in `failing`; finishes the others."""

    def __init__(self, pipeline_ref: list[Pipeline], failing: set[str]):
        self.ref = pipeline_ref
        self.failing = failing
        self.processed: list[str] = []
        self.given_up: list[str] = []

    async def process(self, works):
        failed = [w for w in works if w.number in self.failing]
        for work in failed:
            work.failure = "boom"
        done = [w.flow for w in works if w.number not in self.failing]
        self.processed += [f.number for f in done]
        self.ref[0].terminal(done)
        return failed

    async def give_up(self, works):
        self.given_up += [w.number for w in works]
        self.ref[0].terminal([w.flow for w in works])


async def test_admission_bounds_the_flows_in_progress():
    ref: list[Pipeline] = []
    processor = FakeProcessor(ref, set())
    pipeline = Pipeline(processor, batch_size=2, max_in_flight=3, concurrency=1,  # type: ignore[arg-type]
                        retry=RetryPolicy(2, 0.01, 0.01))
    ref.append(pipeline)
    assert await pipeline.reserve(5) == 3  # never more than the free slots
    assert not pipeline.try_reserve()
    pipeline.submit([flow("a"), flow("b"), flow("c")])
    assert pipeline.free() == 0
    runner = asyncio.create_task(pipeline.run())
    assert await asyncio.wait_for(pipeline.reserve(1), 2) == 1  # freed as flows end
    await pipeline.unreserve(1)
    await asyncio.sleep(0.05)
    assert sorted(processor.processed) == ["a", "b", "c"] and pipeline.free() == 3
    await pipeline.stop(1)
    runner.cancel()
    assert not pipeline.try_reserve()  # stopping: the API answers 503


async def test_technical_failures_are_retried_then_the_flow_is_an_incident():
    ref: list[Pipeline] = []
    processor = FakeProcessor(ref, {"bad"})
    pipeline = Pipeline(processor, batch_size=10, max_in_flight=10, concurrency=2,  # type: ignore[arg-type]
                        retry=RetryPolicy(2, 0.01, 0.02))
    ref.append(pipeline)
    assert await pipeline.reserve(2) == 2
    pipeline.submit([flow("bad"), flow("good")])
    runner = asyncio.create_task(pipeline.run())
    for _ in range(100):
        if processor.given_up:
            break
        await asyncio.sleep(0.01)
    assert processor.given_up == ["bad"] and processor.processed == ["good"]
    assert pipeline.in_flight == {}
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
