"""The EDI channel: takes complete files from every active technical account's in/ folder, as
fast as the pipeline has room for them, one batch per folder per round (round-robin, so one busy
partner does not starve the others)."""

from __future__ import annotations

import asyncio
import time

from chorale_intake import metrics
from chorale_intake.adapters.accounts_model import AccountsModel
from chorale_intake.adapters.edi_folders import Candidate, EdiFolders, LinkRefused
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_intake.service_layer.receipts import Receipts
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

COUNT_EVERY = 2.0  # seconds between counts of the files waiting (a full directory scan)
RETRY_REFUSED_AFTER = 60.0  # a file that could not be moved is tried again after this long
MAX_REFUSED = 10_000


class EdiWatcher:
    def __init__(
        self, *, folders: EdiFolders, accounts: AccountsModel, receipts: Receipts,
        pipeline: Pipeline, batch_size: int, scan_interval: float,
    ):
        self._folders = folders
        self._accounts = accounts
        self._receipts = receipts
        self._pipeline = pipeline
        self._batch_size = batch_size
        self._scan_interval = scan_interval
        self._refused: dict[str, float] = {}  # path -> when it may be tried again
        self._counted_at = 0.0
        self._stopped = False
        self._receiving = asyncio.Semaphore(2)
        self._taking: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self, timeout: float) -> None:
        """Take no more files; let the batches being taken be recorded (bounded)."""
        self._stopped = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def run(self) -> None:
        while not self._stopped and not self._pipeline.stopping:
            taken = 0
            for account in self._accounts.active():
                if self._stopped:
                    return
                taken += await self._take_from(account.id, account.structure)
            await self._count_waiting()
            if taken == 0:
                await asyncio.sleep(self._scan_interval)

    async def _take_from(self, account: str, partner: str) -> int:
        slots = await self._pipeline.reserve(self._batch_size)
        if slots == 0:
            return 0
        now = time.monotonic()
        skip = frozenset(
            [*(p for p, until in self._refused.items() if until > now), *self._taking]
        )
        files = await asyncio.to_thread(self._folders.candidates, account, slots, skip)
        if len(files) < slots:
            await self._pipeline.unreserve(slots - len(files))
        if not files:
            return 0
        # Two batches may be archived and recorded at once (the next scan skips these).
        await self._receiving.acquire()
        self._taking.update(f.path for f in files)
        task = asyncio.get_running_loop().create_task(self._take(account, partner, files))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return len(files)

    async def _take(self, account: str, partner: str, files: list[Candidate]) -> None:
        try:
            refused = await self._receipts.take_files(account, partner, files)
        finally:
            self._taking.difference_update(f.path for f in files)
            self._receiving.release()
        now = time.monotonic()
        for candidate, error in refused:
            if not isinstance(error, LinkRefused):  # links are logged once, where found
                log.warning("edi_file_refused", technical_account=account,
                            fichier=candidate.name, error=str(error))
            if len(self._refused) < MAX_REFUSED:
                self._refused[candidate.path] = now + RETRY_REFUSED_AFTER

    async def _count_waiting(self) -> None:
        now = time.monotonic()
        if now - self._counted_at < COUNT_EVERY:
            return
        self._counted_at = now
        self._refused = {p: t for p, t in self._refused.items() if t > now}
        accounts = [a.id for a in self._accounts.active()]
        waiting = await asyncio.to_thread(
            lambda: sum(self._folders.count_waiting(a) for a in accounts)
        )
        metrics.EDI_WAITING.labels(metrics.SERVICE).set(waiting)
