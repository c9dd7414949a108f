"""Receiving flows: archive the raw bytes first, record the flow (IN_RECU then
IN_EN_ATTENTE_TRAITEMENT, one insert carrying both events), then hand it to the pipeline, which
announces it (events, CR) and processes it.

EDI files are taken in batches (one journal, one insert, one publish per batch); an HTTP deposit
is streamed into the archive and recorded before its 202 answer.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

from chorale_contracts.events.common import FlowStatus
from chorale_intake import metrics
from chorale_intake.adapters.archive import Archive, Move, Stored
from chorale_intake.adapters.edi_folders import Candidate
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.domain.flow import Channel, Etape, Flow
from chorale_intake.domain.numbering import flow_number
from chorale_intake.service_layer.events import with_events
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_runtime.errors import ApiError
from chorale_runtime.retry import Backoff, until_done


def new_number(now: datetime) -> str:
    return flow_number(now, os.urandom(10))


class Receipts:
    def __init__(
        self,
        *,
        store: FlowStore,
        archive: Archive,
        pipeline: Pipeline,
        producer: str,
        owner: str,
        backoff: Backoff,
    ):
        self._store = store
        self._archive = archive
        self._pipeline = pipeline
        self._producer = producer
        self._owner = owner
        self._backoff = backoff

    def new_flow(
        self, *, number: str, channel: Channel, account: str, partner: str, name: str,
        declared: str | None, stored: Stored, received_at: datetime, correlation_id: str,
        depositor: str | None = None,
    ) -> Flow:
        flow = Flow(
            numeroFluxDepot=number, canal=channel, technicalAccountId=account,
            structurePartenaire=partner, deposant=depositor, nomFichier=name,
            syntaxeFluxDeclaree=declared,
            statut=FlowStatus.IN_EN_ATTENTE_TRAITEMENT, dateDepot=received_at,
            dateStatut=received_at,
            historique=(
                Etape(statut=FlowStatus.IN_RECU, date=received_at),
                Etape(statut=FlowStatus.IN_EN_ATTENTE_TRAITEMENT, date=received_at),
            ),
            tailleOctets=stored.size, empreinteSha256=stored.sha256, archive=stored.relative,
            correlationId=correlation_id, owner=self._owner,
        )
        return with_events(flow, 2, producer=self._producer)

    async def record(self, flows: Sequence[Flow]) -> list[Flow]:
        """Insert the flows as received; those already recorded (a replay) are left out."""
        started = time.perf_counter()
        inserted = await self._store.add_pending(flows)
        metrics.stage("record", time.perf_counter() - started)
        return [f for f, new in zip(flows, inserted, strict=True) if new]

    # -- EDI --------------------------------------------------------------------------------
    async def take_files(self, account: str, partner: str, files: Sequence[Candidate]) -> list[
        tuple[Candidate, OSError]
    ]:
        """Archive, record and announce files whose slots are reserved; returns the files that
        could not be moved (left in in/) with the reason."""
        now = datetime.now(UTC)
        moves = []
        for candidate in files:
            number = new_number(now)
            moves.append(Move(number, account, partner, candidate.name, candidate.path,
                              Archive.relative_for(number, now), now.isoformat()))
        started = time.perf_counter()
        journal, results = await asyncio.to_thread(self._archive.move_in, moves)
        metrics.stage("archive", time.perf_counter() - started)
        flows, failed = [], []
        for move, candidate, result in zip(moves, files, results, strict=True):
            if isinstance(result, Stored):
                flows.append(self.new_flow(
                    number=move.number, channel="EDI", account=account, partner=partner,
                    name=move.name, declared=None, stored=result, received_at=now,
                    correlation_id=move.number))
            elif not isinstance(result, FileNotFoundError):
                failed.append((candidate, result))
        if len(flows) < len(files):
            await self._pipeline.unreserve(len(files) - len(flows))
        # Retried until done; a retry may find some of them already inserted by the attempt
        # that failed: they are ours all the same, so all of them go on.
        if not await until_done(
            lambda: self.record(flows), backoff=self._backoff, failed="receipt_step_failed",
            step="record", stopping=lambda: self._pipeline.stopping,
            on_failure=lambda exc: metrics.failed("record"),
        ):
            return failed  # the journal stays: the next start records them
        self._archive.drop_journal(journal)
        await self._pipeline.enter(flows)
        return failed

    # -- API --------------------------------------------------------------------------------
    async def deposit(
        self, *, account: str, partner: str, name: str, declared: str | None,
        body: AsyncIterator[bytes], limit: int, correlation_id: str,
        described: Callable[[], tuple[str, str | None]] | None = None,
        channel: Channel = "API", depositor: str | None = None,
    ) -> Flow:
        """Stream one HTTP deposit into the archive and record it (raises ApiError).
        `described`: the file name and declared syntax, when only the body tells them (a
        multipart form); called once the body is read. `channel` PORTAIL with `depositor`
        (the person's user id): a deposit made in the portal, same pipeline."""
        if not self._pipeline.try_reserve():
            raise ApiError("INTAKE_SATURATED", "Le service de dépôt est saturé ou s'arrête ; "
                           "réessayez dans quelques secondes.", 503)
        now = datetime.now(UTC)
        number = new_number(now)
        upload = self._archive.upload(Archive.relative_for(number, now))
        try:
            async for chunk in body:
                if upload.size + len(chunk) > limit:
                    raise ApiError("FLOW_TOO_LARGE", f"Le flux dépasse {limit} octets : il "
                                   "n'est pas enregistré.", 413, {"limite": limit})
                upload.write(chunk)
            started = time.perf_counter()
            stored = await asyncio.to_thread(upload.finish)
            metrics.stage("archive", time.perf_counter() - started)
        except BaseException:
            upload.abort()
            await self._pipeline.unreserve(1)
            raise
        if described is not None:
            name, declared = described()
        flow = self.new_flow(
            number=number, channel=channel, account=account, partner=partner, name=name,
            declared=declared, stored=stored, received_at=now, correlation_id=correlation_id,
            depositor=depositor)
        try:
            await self.record([flow])
        except BaseException:
            # Not acknowledged: the partner sends the flow again. The archived bytes stay:
            # the insert may have gone through.
            await self._pipeline.unreserve(1)
            raise
        self._pipeline.enter_soon([flow])
        return flow
