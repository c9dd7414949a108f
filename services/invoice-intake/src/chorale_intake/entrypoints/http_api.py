"""HTTP API of the intake (docs/api.md): deposit a flow, read its CR, list flows, re-run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chorale_contracts.events.common import Application, FlowStatus, Mode
from chorale_intake.adapters.accounts_model import AccountsModel
from chorale_intake.adapters.edi_folders import display_name
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.domain.flow import Channel, Flow
from chorale_intake.domain.flow_query import FlowQuery
from chorale_intake.domain.numbering import is_flow_number
from chorale_intake.service_layer.pipeline import Pipeline
from chorale_intake.service_layer.receipts import Receipts
from chorale_intake.service_layer.rerun import flow_not_found, rerun
from chorale_intake.settings import IntakeSettings
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer
from chorale_runtime.errors import VALIDATION_STATUS, ApiError, forbidden
from chorale_runtime.http import correlation_id_of
from chorale_runtime.multipart import MultipartError, MultipartReader

MULTIPART_OVERHEAD = 64 * 1024


def receipt_of(flow: Flow) -> dict[str, Any]:
    body = flow.compte_rendu()
    keys = ("numeroFluxDepot", "statut", "libelleStatut", "dateDepot", "nomFichier",
            "tailleOctets", "empreinteSha256", "syntaxeFluxDeclaree")
    return {k: body.get(k) for k in keys}


def _utc(moment: datetime | None) -> datetime | None:
    """A date without a time zone is UTC (as the database compares them)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def too_large(limit: int) -> ApiError:
    return ApiError("FLOW_TOO_LARGE", f"Le flux dépasse {limit} octets : il n'est pas "
                    "enregistré.", 413, {"limite": limit})


class MultipartDeposit:
    """A multipart deposit read as it arrives: the body's bytes are counted whatever
    `Content-Length` said (a chunked body has none), and reading stops with 413 FLOW_TOO_LARGE
    once they pass the limit plus the form's allowance. `file_bytes` yields the file part's
    bytes (field `file` or `fichier`); its name and the field `syntaxeFlux` are known once the
    body is read (they may come after the file)."""

    def __init__(self, content_type: str | None, body: AsyncIterator[bytes], limit: int):
        try:
            self._reader = MultipartReader(content_type)
        except MultipartError as exc:
            raise ApiError("FLOW_MULTIPART_INVALID", f"Dépôt illisible : {exc}.", 400) from None
        self._body = body
        self._limit = limit
        self.received = 0

    async def file_bytes(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            self.received += len(chunk)
            if self.received > self._limit + MULTIPART_OVERHEAD:
                raise too_large(self._limit)
            try:
                pieces = self._reader.feed(chunk)
            except MultipartError as exc:
                raise ApiError("FLOW_MULTIPART_INVALID", f"Dépôt illisible : {exc}.",
                               400) from None
            for piece in pieces:
                yield piece
            if self._reader.finished:
                break
        if not self._reader.finished:
            raise ApiError("FLOW_MULTIPART_INVALID", "Dépôt illisible : corps multipart "
                           "incomplet.", 400)
        if self._reader.filename is None or self._reader.file_field not in ("file", "fichier"):
            raise ApiError("FLOW_FILE_MISSING", "Le formulaire doit contenir le fichier du "
                           "flux (champ « file »).", VALIDATION_STATUS)

    @property
    def filename(self) -> str | None:
        return self._reader.filename

    @property
    def declared(self) -> str | None:
        return self._reader.fields.get("syntaxeFlux") or None


async def receive(
    request: Request, receipts: Receipts, limit: int, *, account: str, partner: str,
    syntaxeFlux: str | None, nomFichier: str | None, channel: Channel = "API",
    depositor: str | None = None,
) -> Flow:
    """One HTTP deposit, raw body or multipart form, streamed into the archive and recorded
    (same limits and checks whatever the channel)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit + MULTIPART_OVERHEAD:
            raise too_large(limit)  # said so at once; otherwise counted while read
        form = MultipartDeposit(content_type, request.stream(), limit)

        def described() -> tuple[str, str | None]:
            name = nomFichier or form.filename or "flux.xml"
            return display_name(name), form.declared or syntaxeFlux

        return await receipts.deposit(
            account=account, partner=partner, name="flux.xml", declared=syntaxeFlux,
            body=form.file_bytes(), limit=limit, correlation_id=correlation_id_of(request),
            described=described, channel=channel, depositor=depositor,
        )
    return await receipts.deposit(
        account=account, partner=partner, name=display_name(nomFichier or "flux.xml"),
        declared=syntaxeFlux, body=request.stream(), limit=limit,
        correlation_id=correlation_id_of(request), channel=channel, depositor=depositor,
    )


def build_router(
    *, settings: IntakeSettings, receipts: Receipts, store: FlowStore, accounts: AccountsModel,
    pipeline: Pipeline, authorizer: Authorizer,
    current: Callable[..., Awaitable[Principal]],
) -> APIRouter:
    router = APIRouter(prefix="/v1/flows", tags=["flux"])
    who = Depends(current)
    limit = settings.request_limit

    def depositor(principal: Principal) -> tuple[str, str]:
        if not principal.is_technical or not principal.structure:
            raise forbidden("Le dépôt de flux est réservé aux comptes techniques.")
        known = accounts.get(principal.subject)
        if known is not None and known.revoked:
            raise ApiError("TECHNICAL_ACCOUNT_REVOKED", "Ce compte technique est révoqué.", 403)
        if known is not None and known.structure != principal.structure:
            raise forbidden("Ce compte technique n'appartient pas à cette structure.")
        return principal.subject, principal.structure

    async def may_see(principal: Principal, partner: str) -> bool:
        if principal.is_operator:
            return True
        if principal.is_technical:
            return principal.structure == partner
        await authorizer.require(principal, partner, Application.SUIVI_DES_FLUX,
                                 Mode.CONSULTATION)
        return True

    @router.post("", status_code=202, summary="Déposer un flux (XML brut ou multipart)")
    async def deposit(
        request: Request, principal: Principal = who,
        syntaxeFlux: Annotated[str | None, Query(max_length=64)] = None,
        nomFichier: Annotated[str | None, Query(max_length=255)] = None,
    ) -> dict[str, Any]:
        account, partner = depositor(principal)
        flow = await receive(request, receipts, limit, account=account, partner=partner,
                             syntaxeFlux=syntaxeFlux, nomFichier=nomFichier)
        return receipt_of(flow)

    async def may_read(principal: Principal, flow: Flow) -> bool:
        """One flow's CR: as the list, or for the supplier's users holding « Factures
        émises » (who deposit in the portal and read what became of their deposit)."""
        if principal.is_operator or principal.is_technical:
            return await may_see(principal, flow.structurePartenaire)
        try:
            return await may_see(principal, flow.structurePartenaire)
        except ApiError as exc:
            if exc.code != "FORBIDDEN":
                raise
            await authorizer.require(principal, flow.structurePartenaire,
                                     Application.FACTURES_EMISES, Mode.CONSULTATION)
            return True

    @router.get("/{numero}", summary="Compte rendu détaillé d'un flux")
    async def get_flow(numero: str, principal: Principal = who) -> dict[str, Any]:
        flow = await store.get(numero) if is_flow_number(numero) else None
        if flow is None or not await may_read(principal, flow):
            raise flow_not_found(numero)
        return flow.compte_rendu()

    @router.get("", summary="Suivi des flux : liste filtrée et paginée")
    async def list_flows(
        principal: Principal = who,
        structurePartenaire: str | None = None,
        technicalAccountId: str | None = None,
        statut: Annotated[list[FlowStatus] | None, Query()] = None,
        canal: Annotated[str | None, Query(pattern="^(EDI|API|PORTAIL)$")] = None,
        depuis: datetime | None = None,
        jusqua: datetime | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        taillePage: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        if principal.is_technical:
            structurePartenaire = principal.structure
        elif not principal.is_operator:
            if not structurePartenaire:
                raise forbidden("Indiquez la structure partenaire (structurePartenaire).")
            await may_see(principal, structurePartenaire)
        query = FlowQuery(
            partner=structurePartenaire or None, account=technicalAccountId or None,
            statuses=frozenset(s.value for s in statut or ()), channel=canal,
            since=_utc(depuis), until=_utc(jusqua))
        total, rows = await store.search(query, skip=(page - 1) * taillePage, limit=taillePage)
        return {"page": page, "taillePage": taillePage, "total": total, "flux": rows}

    @router.post("/{numero}/rerun", status_code=202, summary="Relancer un flux en incident")
    async def rerun_flow(numero: str, principal: Principal = who) -> dict[str, Any]:
        await authorizer.require_operator(principal)
        if not is_flow_number(numero):
            raise flow_not_found(numero)
        flow = await rerun(
            numero, store=store, receipts=receipts, pipeline=pipeline,
            owner=settings.instance_id, producer=settings.service_name,
            operator=principal.subject,
        )
        return {**receipt_of(flow), "tentative": flow.tentative}

    return router
