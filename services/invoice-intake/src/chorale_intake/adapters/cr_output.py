"""Writing CRs to the partners' out/ folders: one writer, the latest state of a flow wins.

Creating and renaming a file is kernel work that would be the largest cost of a flow in the
service process if every status got its own CR (figures in docs/MEASUREMENTS.md). So a
non-terminal CR (IN_EN_ATTENTE_TRAITEMENT, IN_EN_COURS_TRAITEMENT) is written `delay` seconds
after the change at most (1 s by default), and not at all if a later status of the same flow
replaces it meanwhile: a status that lasts long enough to be seen is shown; one that lasts
a fraction of a second is not. A terminal CR is written at once, and the caller waits for it (it
must be on disk before the flow is marked finished). A single writer also means a slow
non-terminal write can never land after the terminal one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from chorale_intake import metrics
from chorale_intake.adapters.edi_folders import EdiFolders
from chorale_intake.domain.flow import Flow
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

_Entry = tuple[Flow, float, "asyncio.Future[None] | None"]


class CrOutput:
    def __init__(self, folders: EdiFolders, delay: float):
        self._folders = folders
        self._delay = delay
        self._waiting: dict[str, _Entry] = {}
        self._wake = asyncio.Event()
        self._running = False
        self.chunk = 200  # CRs per write round: terminal ones never wait behind a long round

    def later(self, flows: Sequence[Flow]) -> None:
        """Show these non-terminal states unless newer ones replace them within `delay`."""
        due = time.monotonic() + self._delay
        for flow in flows:
            if flow.canal != "EDI":
                continue
            known = self._waiting.get(flow.number)
            if known is not None and known[2] is not None:
                continue  # a terminal CR is already waiting: it wins
            self._waiting[flow.number] = (flow, known[1] if known else due, None)
        self._wake.set()

    async def now(self, flows: Sequence[Flow]) -> None:
        """Show these terminal states; return once written."""
        edi = [f for f in flows if f.canal == "EDI"]
        if not edi:
            return
        if not self._running:  # no writer (start-up, shutdown): write here
            await asyncio.to_thread(self._write, edi)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for flow in edi:
            self._waiting[flow.number] = (flow, 0.0, done)
        self._wake.set()
        await done

    async def run(self) -> None:
        self._running = True
        try:
            while True:
                if not self._waiting:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                now = time.monotonic()
                # Terminal CRs first (someone waits for them), then those due, oldest first.
                due = sorted((n for n, (_, at, _) in self._waiting.items() if at <= now),
                             key=lambda n: self._waiting[n][1])[: self.chunk]
                if not due:
                    self._wake.clear()
                    first = min(at for _, at, _ in self._waiting.values())
                    try:
                        await asyncio.wait_for(self._wake.wait(), first - now)
                    except TimeoutError:
                        pass
                    continue
                batch = [self._waiting.pop(n) for n in due]
                await asyncio.to_thread(self._write, [flow for flow, _, _ in batch])
                for _, _, done in batch:
                    if done is not None and not done.done():
                        done.set_result(None)
        finally:
            self._running = False
            for _, _, done in self._waiting.values():
                if done is not None and not done.done():
                    done.set_exception(RuntimeError("CR writer stopped"))

    def _write(self, flows: Sequence[Flow]) -> None:
        written = {True: 0, False: 0}
        for flow in flows:
            try:
                self._folders.write_cr(flow.technicalAccountId, flow.number,
                                       flow.compte_rendu_json())
            except OSError as exc:  # the CR is also served over HTTP; never block the flow
                log.warning("cr_write_failed", numero=flow.number, error=str(exc))
                continue
            written[flow.terminal] += 1
        metrics.cr_written(terminal=written[True], other=written[False])
