"""Processing a batch of flows waiting for it: analysis (worker processes) → rules against the
directory read model → duplicate claims → the terminal state of each flow, which the pipeline
records and announces.

Technical failures (a worker died, the database failed) never decide a flow's fate here: the
flows concerned are handed back to the pipeline, which retries them with back-off and sets them
IN_INCIDENTE once the attempts are exhausted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from chorale_contracts.events.common import FlowStatus
from chorale_intake import metrics
from chorale_intake.adapters.analysis_pool import AnalysisPool, Job, Outcome, PoolBroken
from chorale_intake.adapters.archive import Archive
from chorale_intake.adapters.directory_model import DirectoryModel
from chorale_intake.adapters.invoice_keys import Claim
from chorale_intake.domain.flow import Flow
from chorale_intake.domain.outcome import Verdict, conclude, judge
from chorale_intake.domain.rules import duplicate_key
from chorale_intake.service_layer.duplicates import Duplicates
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


@dataclass
class Work:
    """A flow in the pipeline, with what is already known about it across retries."""

    flow: Flow
    attempt: int = 0
    outcome: Outcome | None = None
    started: datetime | None = None
    failure: str = ""

    @property
    def number(self) -> str:
        return self.flow.number


def invoice_id_of(number: str) -> str:
    """One file is one invoice: its id is the flow's ULID under the `FAC` prefix."""
    return "FAC" + number.removeprefix("FLX")


class Processor:
    def __init__(
        self,
        *,
        pool: AnalysisPool,
        archive: Archive,
        directory: DirectoryModel,
        duplicates: Duplicates,
        timezone: str,
    ):
        self._pool = pool
        self._archive = archive
        self._directory = directory
        self._duplicates = duplicates
        self._zone = ZoneInfo(timezone)

    async def process(self, works: Sequence[Work]) -> tuple[list[Flow], list[Work]]:
        """The terminal state of each flow of `works` (not yet recorded), and the works hit by
        a technical failure (with `failure` set), to be retried."""
        failed = await self._analyse([w for w in works if w.outcome is None])
        ready = [w for w in works if w.outcome is not None and w.outcome.analysis is not None]
        if not ready:
            return [], failed
        try:
            return await self._conclude(ready), failed
        except Exception as exc:
            metrics.failed("finalise")
            log.warning("flows_finalise_failed", error=str(exc)[:500], flows=len(ready),
                        error_type=type(exc).__name__)
            for work in ready:
                work.failure = f"{type(exc).__name__}: {exc}"
            return [], failed + ready

    async def _analyse(self, works: list[Work]) -> list[Work]:
        jobs = [
            Job(str(self._archive.path_of(w.flow.archive)), w.flow.tailleOctets,
                w.flow.syntaxeFluxDeclaree)
            for w in works
        ]
        try:
            outcomes = await self._pool.analyse(jobs)
        except PoolBroken as exc:
            metrics.failed("analyse")
            log.warning("validation_worker_died", error=str(exc), flows=len(works))
            for work in works:
                work.failure = f"processus de validation interrompu ({exc})"
            return list(works)
        failed = []
        for work, outcome in zip(works, outcomes, strict=True):
            metrics.stage("analyse", outcome.seconds)
            if outcome.failure is not None:
                metrics.failed("analyse")
                work.failure = outcome.failure
                failed.append(work)
            else:
                work.outcome = outcome
        return failed

    def _today(self, flow: Flow) -> date:
        return flow.dateDepot.astimezone(self._zone).date()

    def _judge(self, work: Work) -> Verdict:
        assert work.outcome is not None and work.outcome.analysis is not None
        partner = self._directory.get(work.flow.structurePartenaire)
        facts = work.outcome.analysis.facts
        return judge(
            work.outcome.analysis,
            partner=work.flow.structurePartenaire,
            recipient=self._directory.get(facts.buyer_identifier if facts else None),
            partner_is_public=partner is not None and partner.is_public,
            today=self._today(work.flow),
        )

    async def _conclude(self, works: list[Work]) -> list[Flow]:
        started = time.perf_counter()
        verdicts = [self._judge(w) for w in works]
        metrics.stage("rules", time.perf_counter() - started)

        started = time.perf_counter()
        # An invoice that passes every other rule claims its key: the claim decides. The others
        # claim nothing, but are told about a duplicate too (a lookup by `_id`).
        keys = {i: duplicate_key(v.facts) for i, v in enumerate(verdicts)
                if v.facts is not None}  # facts are there only when the file is accepted
        accepted = [i for i in keys if verdicts[i].accepted]
        won = await self._duplicates.claim([Claim(keys[i], works[i].number) for i in accepted])
        duplicate = {i for i, ok in zip(accepted, won, strict=True) if not ok}
        rejected = [i for i in keys if not verdicts[i].accepted]
        taken = await asyncio.gather(
            *(self._duplicates.is_taken(keys[i], works[i].number) for i in rejected))
        duplicate.update(i for i, yes in zip(rejected, taken, strict=True) if yes)
        for i in duplicate:
            verdicts[i] = verdicts[i].duplicate()
        metrics.stage("duplicates", time.perf_counter() - started)

        finished = datetime.now(UTC)
        terminal = []
        for i, (work, verdict) in enumerate(zip(works, verdicts, strict=True)):
            integrated = verdict.status is FlowStatus.IN_INTEGRE
            assert work.started is not None
            terminal.append(
                conclude(
                    work.flow, verdict, started=work.started, finished=finished,
                    invoice_id=invoice_id_of(work.number) if integrated else None,
                    duplicate_key=keys.get(i) if integrated else None,
                )
            )
        return terminal
