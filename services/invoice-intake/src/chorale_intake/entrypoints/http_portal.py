"""The portal's channel (`PORTAIL`, docs/api.md): a supplier's user deposits an invoice file,
or the CII the portal made of an invoice typed in its form, with their own access token. Same
limits, same archive, same pipeline, rules and CR as an API deposit; only who may deposit
differs: a person holding « Factures émises » in modification on the supplier structure.

Also the directory entry the portal's invoice form shows (a recipient's name and services),
from the intake's own read model of the directory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chorale_contracts.events.common import Application, Mode
from chorale_intake.adapters.directory_model import DirectoryModel
from chorale_intake.entrypoints.http_api import receipt_of, receive
from chorale_intake.service_layer.receipts import Receipts
from chorale_intake.settings import IntakeSettings
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer
from chorale_runtime.errors import ApiError

Partner = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]


def build_portal_router(
    *, settings: IntakeSettings, receipts: Receipts, directory: DirectoryModel,
    authorizer: Authorizer, current: Callable[..., Awaitable[Principal]],
) -> APIRouter:
    router = APIRouter(prefix="/v1/flows/portail", tags=["portail"])
    who = Depends(current)

    def person(principal: Principal) -> None:
        if principal.is_technical:
            raise ApiError("FORBIDDEN", "Un compte technique dépose ses flux par l'API "
                           "(POST /v1/flows).", 403, {"raison": "TECHNICAL_ACCOUNT"})

    @router.post("", status_code=202, summary="Déposer une facture au portail (utilisateur)")
    async def deposit(
        request: Request, structurePartenaire: Partner, principal: Principal = who,
        syntaxeFlux: Annotated[str | None, Query(max_length=64)] = None,
        nomFichier: Annotated[str | None, Query(max_length=255)] = None,
    ) -> dict[str, Any]:
        person(principal)
        if principal.is_operator:
            # An operator acts on the platform, never as a supplier issuing invoices.
            raise ApiError("FORBIDDEN", "Le dépôt de factures au portail est réservé aux "
                           "utilisateurs de la structure fournisseur.", 403,
                           {"raison": "OPERATOR_NOT_SUPPLIER"})
        await authorizer.require(principal, structurePartenaire, Application.FACTURES_EMISES,
                                 Mode.MODIFICATION)
        flow = await receive(request, receipts, settings.request_limit, account="",
                             partner=structurePartenaire, syntaxeFlux=syntaxeFlux,
                             nomFichier=nomFichier, channel="PORTAIL",
                             depositor=principal.subject)
        return receipt_of(flow)

    @router.get("/destinataires/{identifiant}",
                summary="Destinataire public de l'annuaire : nom et services actifs")
    async def recipient(identifiant: str, principal: Principal = who) -> dict[str, Any]:
        person(principal)
        entry = directory.get(identifiant)
        if entry is None or not entry.is_public:
            raise ApiError("RECIPIENT_NOT_FOUND", "Aucune structure publique "
                           f"« {identifiant[:64]} » dans l'annuaire.", 404)
        today = date.today()
        return {
            "identifiant": entry.identifier,
            "raisonSociale": entry.name,
            "statut": entry.statut.value,
            "parametres": {
                "codeServiceDoitEtreRenseigne": entry.parameters.service_code_required,
                "numeroEJDoitEtreRenseigne": entry.parameters.engagement_required,
                "gestionNumeroEJOuCodeService":
                    entry.parameters.service_or_engagement_required,
            },
            "services": [
                {"codeService": s.code, "libelle": s.label,
                 "numeroEJDoitEtreRenseigne": s.engagement_required}
                for s in sorted(entry.services, key=lambda s: s.code)
                if s.active_on(today) and s.code != "FACTURES_PUBLIQUES"
            ],
        }

    return router
