"""Parsing and validation off the event loop, in worker processes.

lxml validates against one compiled schema at a time (its error log is per schema object), and
Saxon (the business rules' XSLT 2.0) is used by one thread at a time, so the intake scales with
processes, not threads. Each worker compiles the schemas and the stylesheets once at start,
reads the archived file itself (only paths and results cross the process boundary) and returns
the domain's `Analysis`. A crashing worker (a file that kills libxml2, say) breaks only the jobs
in flight: the pool is rebuilt and the caller retries them as technical failures.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from chorale_intake.domain import schematron, xsd
from chorale_intake.domain.analysis import Analysis, analyse
from chorale_intake.domain.business_rules import BrFrMode
from chorale_intake.domain.errors import RuleCode, rule_error
from chorale_intake.domain.syntax import RootKind


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_depth: int
    max_xsd_errors: int
    br_fr: BrFrMode = BrFrMode.WARNING


@dataclass(frozen=True)
class Job:
    path: str
    size: int
    declared_syntax: str | None


@dataclass(frozen=True)
class Outcome:
    """An analysis, or the technical failure that prevented it."""

    analysis: Analysis | None
    seconds: float
    failure: str | None = None


def _read(path: str, size: int) -> bytes:
    """The archived bytes (plain os calls: no buffering layer for a one-shot read)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts, left = [], size + 1  # one byte more tells a file that changed
        while left > 0 and (chunk := os.read(fd, left)):
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def analyse_file(job: Job, limits: Limits) -> Outcome:
    started = time.perf_counter()
    try:
        if job.size > limits.max_bytes:  # decided on the size alone: never read into memory
            error = rule_error(RuleCode.FILE_TOO_LARGE, size=job.size, limit=limits.max_bytes,
                               value=str(job.size))
            analysis = Analysis(errors=(error,))
        else:
            analysis = analyse(
                _read(job.path, job.size),
                job.declared_syntax,
                max_bytes=limits.max_bytes,
                max_depth=limits.max_depth,
                max_xsd_errors=limits.max_xsd_errors,
                br_fr=limits.br_fr,
            )
    except Exception as exc:  # the archive is unreadable, libxml2 failed...: not the file's fault
        return Outcome(None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return Outcome(analysis, time.perf_counter() - started)


def analyse_files(jobs: Sequence[Job], limits: Limits) -> list[Outcome]:
    return [analyse_file(job, limits) for job in jobs]


def _warm_up(limits: Limits) -> None:
    """Compile the schemas and the stylesheets this deployment's rules use (a Factur-X
    profile's own rules are compiled by the first Factur-X flow: most deployments see few)."""
    xsd.warm_up()
    schematron.warm_up(sheet for kind in RootKind
                       for sheet in schematron.stylesheets_for(kind, limits.br_fr))


def _start_worker(limits: Limits) -> None:
    """Worker initializer: compile the schemas and stylesheets, and die with the service. A
    worker holds both ends of its task queue, so it would never notice a parent killed with
    SIGKILL."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    _warm_up(limits)


class PoolBroken(Exception):
    """A worker died: every job in flight is to be retried."""


class AnalysisPool:
    def __init__(self, workers: int, limits: Limits):
        self.workers = workers
        self.limits = limits
        self._executor: ProcessPoolExecutor | None = None

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the service process runs threads and an event loop.
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.limits,),
        )

    async def start(self) -> None:
        if self.workers == 0:
            await asyncio.to_thread(_warm_up, self.limits)
            return
        self._executor = self._new_executor()
        loop = asyncio.get_running_loop()
        # Start (and warm) every worker now rather than on the first flows.
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _warm_up, self.limits)
              for _ in range(self.workers))
        )

    async def analyse(self, jobs: Sequence[Job]) -> list[Outcome]:
        if not jobs:
            return []
        if self._executor is None:
            return await asyncio.to_thread(analyse_files, list(jobs), self.limits)
        size = math.ceil(len(jobs) / self.workers)
        chunks = [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            results = await asyncio.gather(
                *(loop.run_in_executor(executor, analyse_files, c, self.limits) for c in chunks)
            )
        except BrokenProcessPool as exc:
            if self._executor is executor:
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            raise PoolBroken(str(exc) or "a validation worker died") from exc
        return [outcome for chunk in results for outcome in chunk]

    async def stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:  # in flight batches are done: the pipeline stopped first
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
