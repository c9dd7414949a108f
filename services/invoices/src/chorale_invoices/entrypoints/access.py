"""Who may see and act on which invoices, decided by the runtime's shared authorizer
(habilitations « Factures reçues » / « Factures émises »; consultation reads, modification acts).
"""

from __future__ import annotations

from chorale_contracts.events.common import Application, Mode
from chorale_invoices.domain.errors import invoice_not_found
from chorale_invoices.domain.invoice import Invoice
from chorale_runtime.auth import Principal
from chorale_runtime.authz import Authorizer
from chorale_runtime.errors import ApiError, forbidden

ALL = None  # every service of the structure


class Access:
    def __init__(self, authorizer: Authorizer):
        self._authz = authorizer

    async def received_scope(self, principal: Principal, structure: str
                             ) -> frozenset[str | None] | None:
        """The services of `structure` whose invoices the caller may read (None = all)."""
        if principal.is_technical:
            raise forbidden("Un compte technique ne consulte pas les factures reçues.")
        if principal.is_operator or await self._authz.is_gestionnaire_principal(
                principal, structure):
            return ALL
        grants, deactivated = await self._authz.grants_of(principal.subject)
        mine = [g for g in grants if g.application == Application.FACTURES_RECUES
                and g.structure == structure]
        if deactivated or not mine:
            # The authorizer words the refusal (deactivated, no grant...).
            await self._authz.require(principal, structure, Application.FACTURES_RECUES,
                                      Mode.CONSULTATION)
            raise forbidden()
        if any(g.code_service is None for g in mine):
            return ALL
        return frozenset(g.code_service for g in mine)

    async def require_issued(self, principal: Principal, structure: str, mode: Mode) -> None:
        if principal.is_technical:
            raise forbidden("Un compte technique lit les messages CDAR (/v1/cdar).")
        await self._authz.require(principal, structure, Application.FACTURES_EMISES, mode)

    async def _allowed(self, principal: Principal, structure: str, application: Application,
                       mode: Mode, code_service: str | None = None) -> bool:
        if principal.is_technical:
            return False
        try:
            await self._authz.require(principal, structure, application, mode, code_service)
            return True
        except ApiError:
            return False

    async def recipient(self, principal: Principal, invoice: Invoice, mode: Mode) -> None:
        """Read (consultation) or act (modification) as the recipient; an invoice the caller
        may not even read is « not found »."""
        if await self._allowed(principal, invoice.destinataire, Application.FACTURES_RECUES,
                               mode, invoice.codeService):
            return
        if mode is Mode.MODIFICATION and await self._allowed(
                principal, invoice.destinataire, Application.FACTURES_RECUES,
                Mode.CONSULTATION, invoice.codeService):
            await self._authz.require(principal, invoice.destinataire,
                                      Application.FACTURES_RECUES, mode, invoice.codeService)
        raise invoice_not_found(invoice.invoiceId)

    async def supplier(self, principal: Principal, invoice: Invoice, mode: Mode) -> None:
        if await self._allowed(principal, invoice.fournisseur, Application.FACTURES_EMISES,
                               mode):
            return
        if mode is Mode.MODIFICATION and await self._allowed(
                principal, invoice.fournisseur, Application.FACTURES_EMISES, Mode.CONSULTATION):
            await self._authz.require(principal, invoice.fournisseur,
                                      Application.FACTURES_EMISES, mode)
        raise invoice_not_found(invoice.invoiceId)

    async def either(self, principal: Principal, invoice: Invoice) -> None:
        """Read access from either side (attachments)."""
        if await self._allowed(principal, invoice.destinataire, Application.FACTURES_RECUES,
                               Mode.CONSULTATION, invoice.codeService):
            return
        await self.supplier(principal, invoice, Mode.CONSULTATION)
