"""Where each field lives in each syntax (DESIGN.md §6 table), as XPath relative to the root.

A field may have several locations, tried in order (the first non-empty wins): e.g. the UBL
code service is `cbc:BuyerReference`, else the buyer's `cac:Contact/cbc:ID`.
"""

from __future__ import annotations

from dataclasses import dataclass

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}

# UNTDID 1001 document type codes that EN 16931 treats as credit notes.
CREDIT_NOTE_TYPE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)


@dataclass(frozen=True)
class FieldPaths:
    root: str  # display name of the root element, e.g. "Invoice", "rsm:CrossIndustryInvoice"
    xpaths: dict[str, tuple[str, ...]]

    def display(self, field: str) -> str:
        """An XPath-like location for messages, e.g. /Invoice/cbc:BuyerReference."""
        return f"/{self.root}/{self.xpaths[field][0]}"


def _ubl(root: str, type_code: str) -> FieldPaths:
    customer = "cac:AccountingCustomerParty/cac:Party"
    supplier = "cac:AccountingSupplierParty/cac:Party"
    totals = "cac:LegalMonetaryTotal"
    return FieldPaths(
        root=root,
        xpaths={
            "number": ("cbc:ID",),
            "issue_date": ("cbc:IssueDate",),
            "type_code": (type_code,),
            "currency": ("cbc:DocumentCurrencyCode",),
            "buyer_id": (f"{customer}/cac:PartyIdentification/cbc:ID",),
            "buyer_name": (
                f"{customer}/cac:PartyLegalEntity/cbc:RegistrationName",
                f"{customer}/cac:PartyName/cbc:Name",
            ),
            "supplier_id": (f"{supplier}/cac:PartyIdentification/cbc:ID",),
            "supplier_name": (
                f"{supplier}/cac:PartyLegalEntity/cbc:RegistrationName",
                f"{supplier}/cac:PartyName/cbc:Name",
            ),
            "service_code": ("cbc:BuyerReference", f"{customer}/cac:Contact/cbc:ID"),
            "engagement": ("cac:OrderReference/cbc:ID",),
            "total_without_tax": (f"{totals}/cbc:TaxExclusiveAmount",),
            "tax_total": ("cac:TaxTotal/cbc:TaxAmount",),
            "total_with_tax": (f"{totals}/cbc:TaxInclusiveAmount",),
            "amount_due": (f"{totals}/cbc:PayableAmount",),
        },
    )


def _cii() -> FieldPaths:
    document = "rsm:ExchangedDocument"
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    totals = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    return FieldPaths(
        root="rsm:CrossIndustryInvoice",
        xpaths={
            "number": (f"{document}/ram:ID",),
            "issue_date": (
                f"{document}/ram:IssueDateTime/udt:DateTimeString",
                f"{document}/ram:IssueDateTime/udt:DateTime",
            ),
            "type_code": (f"{document}/ram:TypeCode",),
            "currency": (f"{settlement}/ram:InvoiceCurrencyCode",),
            # The SIRET: in the global id (scheme 0009) where the French rules (BR-FR-10) want
            # the SIREN as legal registration, else in the legal registration.
            "buyer_id": (
                f"{agreement}/ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID",
                f"{agreement}/ram:BuyerTradeParty/ram:GlobalID",
            ),
            "buyer_name": (f"{agreement}/ram:BuyerTradeParty/ram:Name",),
            "supplier_id": (
                f"{agreement}/ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID",
                f"{agreement}/ram:SellerTradeParty/ram:GlobalID",
            ),
            "supplier_name": (f"{agreement}/ram:SellerTradeParty/ram:Name",),
            "service_code": (f"{agreement}/ram:BuyerReference",),
            "engagement": (f"{agreement}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",),
            "total_without_tax": (f"{totals}/ram:TaxBasisTotalAmount",),
            "tax_total": (f"{totals}/ram:TaxTotalAmount",),
            "total_with_tax": (f"{totals}/ram:GrandTotalAmount",),
            "amount_due": (f"{totals}/ram:DuePayableAmount",),
        },
    )


UBL_INVOICE_PATHS = _ubl("Invoice", "cbc:InvoiceTypeCode")
UBL_CREDIT_NOTE_PATHS = _ubl("CreditNote", "cbc:CreditNoteTypeCode")
CII_PATHS = _cii()
