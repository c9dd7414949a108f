"""A flow's life in this process, from its receipt to its end: admission (at most
`max_in_flight` received and not yet terminal), the receipt's announcement, batching, a few
concurrent batches (so that one batch is validated while another is written), retries with
back-off, IN_INCIDENTE once retries are exhausted, and the end: the terminal record written
once, announced (events and CR), marked finished, the slot freed.

    receipts → enter → [queue → process → end: record → announce → mark finished → free]

Admission is what bounds memory and the pending generations whatever the number of files
waiting: the EDI watcher takes files only as slots free up, the API answers 503 when none is
free.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from chorale_intake import metrics
from chorale_intake.domain.flow import Flow
from chorale_intake.domain.outcome import incident
from chorale_intake.service_layer.announcer import Announcer
from chorale_intake.service_layer.processing import Processor, Work
from chorale_intake.service_layer.terminal_records import TerminalRecords
from chorale_runtime.logging import get_logger
from chorale_runtime.retry import Backoff, RetryPolicy, until_done

log = get_logger(__name__)
ANNOUNCING = 8  # terminal batches announced at once (the next batches wait for a turn)


def _failing(works: list[Work], exc: Exception) -> list[Work]:
    for work in works:
        work.failure = f"{type(exc).__name__}: {exc}"
    return works


class Pipeline:
    def __init__(
        self,
        processor: Processor,
        *,
        records: TerminalRecords,
        announcer: Announcer,
        batch_size: int,
        max_in_flight: int,
        concurrency: int,
        retry: RetryPolicy,
        backoff: Backoff,
    ):
        self._processor = processor
        self._records = records
        self._announcer = announcer
        self._batch_size = batch_size
        self._max = max_in_flight
        self._concurrency = concurrency
        self._retry = retry
        self._backoff = backoff
        self._queue: deque[Work] = deque()
        self._work_ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._reserved = 0  # slots taken by receipts not yet submitted
        self.in_flight: dict[str, Work] = {}
        self._running = 0
        self._stopping = False
        self._announcing = asyncio.Semaphore(ANNOUNCING)
        self._background: set[asyncio.Task[None]] = set()

    # -- admission --------------------------------------------------------------------------
    def free(self) -> int:
        return self._max - len(self.in_flight) - self._reserved

    def try_reserve(self) -> bool:
        if self._stopping or self.free() <= 0:
            return False
        self._reserved += 1
        return True

    async def reserve(self, wanted: int) -> int:
        """Wait for at least one free slot, then take up to `wanted` of them."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.free() > 0 or self._stopping)
        if self._stopping:
            return 0
        granted = min(wanted, self.free())
        self._reserved += granted
        return granted

    async def unreserve(self, count: int) -> None:
        self._reserved -= count
        await self._notify()

    async def _notify(self) -> None:
        metrics.IN_FLIGHT.labels(metrics.SERVICE).set(len(self.in_flight))
        async with self._changed:
            self._changed.notify_all()

    async def enter(self, flows: Sequence[Flow]) -> None:
        """Recorded flows, their slots reserved: announce their receipt, then queue them. If
        the service stops before the announcement could be made, they stay recorded and the
        next start takes them up."""
        if flows and await self._announcer.received(flows, stopping=lambda: self._stopping):
            self._queue_up(flows)

    def enter_soon(self, flows: Sequence[Flow]) -> None:
        """`enter` in the background (an HTTP deposit is answered once recorded)."""
        self._in_background(self.enter(flows))

    def resume(self, flows: Sequence[Flow]) -> None:
        """Queue flows whose receipt was announced by an earlier run (their slots reserved)."""
        self._queue_up(flows)

    def _queue_up(self, flows: Sequence[Flow]) -> None:
        self._reserved -= len(flows)
        for flow in flows:
            work = Work(flow)
            self.in_flight[flow.number] = work
            self._queue.append(work)
        metrics.IN_FLIGHT.labels(metrics.SERVICE).set(len(self.in_flight))
        self._work_ready.set()

    def _in_background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- the end ----------------------------------------------------------------------------
    async def end(self, terminal: Sequence[Flow]) -> list[Flow]:
        """Record terminal flows (raises on a technical failure: nothing recorded, nothing
        announced), then, in the background (the caller goes on with its next batch),
        announce them, mark them finished and free their slots. Returns the records as
        stored."""
        recorded = await self._records.write(terminal)
        await self._announcing.acquire()
        self._in_background(self._announce_end(recorded)).add_done_callback(
            lambda _: self._announcing.release())
        return recorded

    async def _announce_end(self, flows: Sequence[Flow]) -> None:
        await self._announcer.terminal(flows)
        await until_done(lambda: self._records.mark_finished(flows), backoff=self._backoff,
                         failed="flows_announce_failed", flows=len(flows),
                         on_failure=lambda exc: metrics.failed("announce"))
        for flow in flows:
            self.in_flight.pop(flow.number, None)
        await self._notify()

    async def give_up(self, works: Sequence[Work]) -> None:
        """Retries exhausted: end each flow IN_INCIDENTE (raises if even that fails)."""
        finished = datetime.now(UTC)
        await self.end([
            incident(w.flow, w.failure, started=w.started or finished, finished=finished)
            for w in works
        ])

    # -- processing -------------------------------------------------------------------------
    async def run(self) -> None:
        await asyncio.gather(*(self._dispatch() for _ in range(self._concurrency)))

    async def _next_batch(self) -> list[Work] | None:
        while not self._queue:
            if self._stopping:
                return None
            self._work_ready.clear()
            await self._work_ready.wait()
        if self._stopping:
            return None
        count = min(self._batch_size, len(self._queue))
        return [self._queue.popleft() for _ in range(count)]

    async def _dispatch(self) -> None:
        while (batch := await self._next_batch()) is not None:
            self._running += 1
            try:
                failed = await self._process(batch)
            finally:
                self._running -= 1
                await self._notify()
            for work in failed:
                await self._failed(work)

    async def _process(self, batch: list[Work]) -> list[Work]:
        """Bring the flows of `batch` to their end; return those hit by a technical failure
        (with `failure` set), to be retried."""
        now = datetime.now(UTC)
        for work in batch:
            work.started = work.started or now
        self._announcer.in_progress([w.flow for w in batch if w.attempt == 0], started=now)
        try:
            terminal, failed = await self._processor.process(batch)
        except Exception as exc:  # a bug, not a technical failure of one step: retry too
            log.exception("batch_failed", flows=len(batch))
            return _failing(batch, exc)
        if not terminal:
            return failed
        try:
            await self.end(terminal)
        except Exception as exc:  # the terminal records could not be written: retry them
            metrics.failed("finalise")
            log.warning("flows_finalise_failed", error=str(exc)[:500], flows=len(terminal),
                        error_type=type(exc).__name__)
            ended = {f.number for f in terminal}
            return failed + _failing([w for w in batch if w.number in ended], exc)
        return failed

    async def _failed(self, work: Work) -> None:
        work.attempt += 1
        if work.attempt > self._retry.max_retries:
            try:
                await self.give_up([work])
                log.error("flow_incident", numero=work.number, attempts=work.attempt,
                          error=work.failure[:500], correlation_id=work.flow.correlationId)
                return
            except Exception as exc:  # cannot even record the incident: keep trying
                log.warning("flow_incident_not_recorded", numero=work.number, error=str(exc))
        delay = self._retry.delay(work.attempt)
        log.warning("flow_retry", numero=work.number, attempt=work.attempt, delay=delay,
                    error=work.failure[:500])
        asyncio.get_running_loop().call_later(delay, self._requeue, work)

    def _requeue(self, work: Work) -> None:
        if work.number in self.in_flight and not self._stopping:
            self._queue.append(work)
            self._work_ready.set()

    # -- shutdown ---------------------------------------------------------------------------
    async def stop(self, timeout: float) -> None:
        """Take no new batch; wait (bounded) for the running ones. Queued flows stay recorded
        IN_EN_ATTENTE_TRAITEMENT and are resumed by the next start."""
        self._stopping = True
        self._work_ready.set()
        async with self._changed:
            self._changed.notify_all()
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._running == 0),
                                       timeout)
            except TimeoutError:
                log.warning("pipeline_stop_timeout", running=self._running)

    async def drain(self, timeout: float) -> None:
        """At shutdown, after `stop`: let the announcements in progress end (bounded); what
        is left is announced again by the next start."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping
