"""The flows this process is working on: admission (at most `max_in_flight` received and not yet
terminal), batching, a few concurrent batches (so that one batch is validated while another is
written), retries with back-off, and IN_INCIDENTE once retries are exhausted.

Admission is what bounds memory and the pending generations whatever the number of files
waiting: the EDI watcher takes files only as slots free up, the API answers 503 when none is
free.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

from chorale_intake import metrics
from chorale_intake.domain.flow import Flow
from chorale_intake.service_layer.processing import Processor, Work
from chorale_runtime.consumer import RetryPolicy
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


class Pipeline:
    def __init__(
        self,
        processor: Processor,
        *,
        batch_size: int,
        max_in_flight: int,
        concurrency: int,
        retry: RetryPolicy,
    ):
        self._processor = processor
        self._batch_size = batch_size
        self._max = max_in_flight
        self._concurrency = concurrency
        self._retry = retry
        self._queue: deque[Work] = deque()
        self._work_ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._reserved = 0  # slots taken by receipts not yet submitted
        self.in_flight: dict[str, Work] = {}
        self._running = 0
        self._stopping = False

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

    def submit(self, flows: Sequence[Flow], *, reserved: bool = True) -> None:
        """Queue received flows for processing (their slots reserved beforehand)."""
        if reserved:
            self._reserved -= len(flows)
        for flow in flows:
            work = Work(flow)
            self.in_flight[flow.number] = work
            self._queue.append(work)
        metrics.IN_FLIGHT.labels(metrics.SERVICE).set(len(self.in_flight))
        self._work_ready.set()

    def terminal(self, flows: Sequence[Flow]) -> None:
        """Flows that reached their terminal status: free their slots."""
        for flow in flows:
            self.in_flight.pop(flow.number, None)
        asyncio.get_running_loop().create_task(self._notify())

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
                failed = await self._processor.process(batch)
            except Exception as exc:  # a bug, not a technical failure of one step: retry too
                log.exception("batch_failed", flows=len(batch))
                for work in batch:
                    work.failure = f"{type(exc).__name__}: {exc}"
                failed = list(batch)
            finally:
                self._running -= 1
                await self._notify()
            for work in failed:
                await self._failed(work)

    async def _failed(self, work: Work) -> None:
        work.attempt += 1
        if work.attempt > self._retry.max_retries:
            try:
                await self._processor.give_up([work])
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

    @property
    def stopping(self) -> bool:
        return self._stopping
