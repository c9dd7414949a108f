"""Fixtures of the invoices integration tests: a Kafka publisher of upstream events (intake,
directory, habilitations), tokens, and the service in-process with an EDI root."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from chorale_contracts.events.directory import (
    DirectoryParameters,
    DirectoryService,
    DirectorySnapshot,
)
from chorale_contracts.events.habilitations import HabilitationGranted
from chorale_contracts.events.invoices import InvoiceDeposited, InvoiceMadeAvailable
from chorale_invoices.bootstrap import build_app
from chorale_invoices.settings import InvoicesSettings
from chorale_runtime.testing.kafka_publisher import EventPublisher, event_publisher
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_runtime.testing.tokens import TokenFactory

SUPPLIER = "73282932000074"
ACCOUNT = "ct-fournisseur-1"


class Publisher(EventPublisher):
    async def grant(self, user_id: str, structure: str, application: str, mode: str,
                    code_service: str | None = None) -> None:
        await self(HabilitationGranted(
            grantId=str(uuid.uuid4()), userId=user_id, structure=structure,
            codeService=code_service, application=application, mode=mode), user_id)

    async def recipient(self, siret: str, *, hide_payment: bool = False, version: int = 1,
                        ej_required_on: tuple[str, ...] = ()) -> None:
        services = [DirectoryService(codeService=code, libelle=f"Service {code}", statut="ACTIF",
                                     dateDebutActivation=date(2020, 1, 1),
                                     numeroEJDoitEtreRenseigne=code in ej_required_on)
                    for code in ("S1", "S2", "S3")]
        services.append(DirectoryService(codeService="OLD", libelle="Fermé", statut="INACTIF",
                                         dateDebutActivation=date(2020, 1, 1)))
        await self(DirectorySnapshot(
            identifiant=siret, typeIdentifiant="SIRET", typeStructure="PUBLIQUE",
            statut="ACTIVE", raisonSociale=f"Commune {siret[-4:]}",
            parametres=DirectoryParameters(statutMiseEnPaiementNestPasRemonte=hide_payment),
            services=services, version=version), siret)

    async def invoice(self, recipient: str, code_service: str | None = "S1", *,
                      number: str | None = None, amount: str = "1200.00") -> str:
        suffix = uuid.uuid4().hex[:20].upper()
        invoice_id = f"FAC20261203-{suffix}"
        fields: dict[str, Any] = dict(
            invoiceId=invoice_id, numeroFluxDepot=f"FLX20261203-{suffix}",
            destinataire=recipient, codeService=code_service, fournisseur=SUPPLIER,
            raisonSocialeFournisseur="Fournisseur Test", numeroFacture=number or f"F-{suffix}",
            typeFacture="380", dateFacture=date(2026, 12, 1), dateDepot=date(2026, 12, 3),
            montantHT="1000.00", montantTVA="200.00", montantTTC=amount, devise="EUR",
            technicalAccountId=ACCOUNT, canal="EDI")
        await self(InvoiceDeposited(statut="DEPOSEE", **fields), invoice_id)
        await self(InvoiceMadeAvailable(statut="MISE_A_DISPOSITION", **fields), invoice_id)
        return invoice_id


@pytest_asyncio.fixture
async def publish(infra: Any, namespace: Any) -> AsyncIterator[Publisher]:
    async with event_publisher(Publisher, infra, namespace) as publisher:
        yield publisher


@pytest.fixture
def tokens() -> TokenFactory:
    return TokenFactory()


@pytest.fixture
def edi_root(tmp_path: Path) -> Path:
    return tmp_path / "edi"


@pytest.fixture
def invoices_service(infra: Any, namespace: Any, tokens: TokenFactory, edi_root: Path) -> Any:
    """`async with invoices_service(**overrides) as base_url:` runs the service in-process."""

    def run(**overrides: Any) -> contextlib.AbstractAsyncContextManager[str]:
        settings = settings_for(InvoicesSettings, infra, namespace, edi_root=edi_root,
                                **overrides)
        return serve_in_process(build_app(settings, verifier=tokens.verifier()))

    return run
