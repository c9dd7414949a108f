"""Realistic, XSD-valid sample invoices for tests, the benchmark and the demo.

Modelled on the CEN EN 16931 examples (`ubl-tc434-example1.xml`, `CII_example1.xml`), with the
buyer and supplier SIRET where DESIGN.md §6 expects them (scheme `0009`), the code service in
BT-10 and the numéro d'engagement in BT-13. Rendered with string templates: fast enough to make
tens of thousands of files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Amounts", "invoice_amounts", "make_cii_invoice", "make_invoice", "make_ubl_invoice"]

_CENT = Decimal("0.01")
_PRODUCTS = (
    "Ramette papier A4 80 g",
    "Cartouche d'encre noire",
    "Classeur à levier dos 80 mm",
    "Prestation de maintenance informatique",
    "Câble réseau RJ45 catégorie 6",
    "Heure d'intervention technicien",
    "Fournitures de bureau diverses",
)
_IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True)
class Amounts:
    lines: tuple[tuple[int, Decimal, Decimal], ...]  # (quantity, unit price, line total)
    total_without_tax: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    total_with_tax: Decimal  # BT-112


def invoice_amounts(lines: int, unit_price: Decimal | str, vat_rate: Decimal | str) -> Amounts:
    """The (deterministic) line and total amounts `make_*_invoice` writes."""
    if lines < 1:
        raise ValueError("an invoice has at least one line")
    base = Decimal(unit_price)
    rows = []
    for i in range(lines):
        quantity = 1 + i % 4
        price = (base + Decimal(i % 7) * Decimal("1.25")).quantize(_CENT)
        rows.append((quantity, price, (price * quantity).quantize(_CENT)))
    total = sum((row[2] for row in rows), Decimal("0.00"))
    tax = (total * Decimal(vat_rate) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    return Amounts(tuple(rows), total, tax, total + tax)


def _x(value: object) -> str:
    return (
        str(value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _vat_number(siret: str) -> str:
    siren = siret[:9]
    key = (12 + 3 * (int(siren) % 97)) % 97 if siren.isdigit() else 0
    return f"FR{key:02d}{siren}"


# French mentions BR-FR-05 requires in every invoice's notes (BT-22), by subject code (BT-21).
_MENTIONS = (
    ("PMT", "Indemnité forfaitaire pour frais de recouvrement : 40 EUR."),
    ("PMD", "Pénalités de retard : trois fois le taux d'intérêt légal."),
    ("AAB", "Pas d'escompte pour paiement anticipé."),
)
BILLING_MODE = "B1"  # BT-23 (BR-FR-08): invoice for goods, deposited for payment


def _ubl_party(siret: str, name: str, street: str, city: str, zone: str, vat: bool) -> str:
    tax_scheme = (
        f"<cac:PartyTaxScheme><cbc:CompanyID>{_x(_vat_number(siret))}</cbc:CompanyID>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        if vat
        else ""
    )
    return (
        # Electronic address (BT-34/BT-49, BR-FR-12/13): the SIREN under scheme 0225.
        f'<cac:Party><cbc:EndpointID schemeID="0225">{_x(siret[:9])}</cbc:EndpointID>'
        f'<cac:PartyIdentification><cbc:ID schemeID="0009">{_x(siret)}</cbc:ID>'
        "</cac:PartyIdentification>"
        f"<cac:PartyName><cbc:Name>{_x(name)}</cbc:Name></cac:PartyName>"
        f"<cac:PostalAddress><cbc:StreetName>{street}</cbc:StreetName>"
        f"<cbc:CityName>{city}</cbc:CityName><cbc:PostalZone>{zone}</cbc:PostalZone>"
        "<cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country>"
        f"</cac:PostalAddress>{tax_scheme}"
        f"<cac:PartyLegalEntity><cbc:RegistrationName>{_x(name)}</cbc:RegistrationName>"
        f'<cbc:CompanyID schemeID="0002">{_x(siret[:9])}</cbc:CompanyID></cac:PartyLegalEntity>'
        "</cac:Party>"
    )


def make_ubl_invoice(
    *,
    buyer_siret: str,
    supplier_siret: str,
    number: str = "FA-2024-0001",
    issue_date: date | None = None,
    service_code: str | None = None,
    engagement: str | None = None,
    lines: int = 3,
    unit_price: Decimal | str = "100.00",
    vat_rate: Decimal | str = "20.00",
    currency: str = "EUR",
    credit_note: bool = False,
    supplier_name: str = "Fournitures Dupont SARL",
    buyer_name: str = "Commune de Chaource",
) -> bytes:
    """A UBL 2.1 Invoice (or CreditNote) valid against the official XSD, as UTF-8 bytes."""
    issued = issue_date or date.today()
    amounts = invoice_amounts(lines, unit_price, vat_rate)
    rate, cur = _x(Decimal(vat_rate)), _x(currency)
    root, line_tag, qty_tag = (
        ("CreditNote", "CreditNoteLine", "CreditedQuantity")
        if credit_note
        else ("Invoice", "InvoiceLine", "InvoicedQuantity")
    )
    head = (
        f"<cbc:IssueDate>{issued.isoformat()}</cbc:IssueDate>"
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credit_note
        else f"<cbc:IssueDate>{issued.isoformat()}</cbc:IssueDate>"
        f"<cbc:DueDate>{(issued + timedelta(days=30)).isoformat()}</cbc:DueDate>"
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"'
        ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
        ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>"
        f"<cbc:ProfileID>{BILLING_MODE}</cbc:ProfileID>"
        f"<cbc:ID>{_x(number)}</cbc:ID>{head}"
        + "".join(f"<cbc:Note>#{code}#{text}</cbc:Note>" for code, text in _MENTIONS)
        + f"<cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode>\n",
        f"<cbc:BuyerReference>{_x(service_code)}</cbc:BuyerReference>\n" if service_code else "",
        f"<cac:OrderReference><cbc:ID>{_x(engagement)}</cbc:ID></cac:OrderReference>\n"
        if engagement
        else "",
        "<cac:AccountingSupplierParty>",
        _ubl_party(supplier_siret, supplier_name, "12 rue des Artisans", "Troyes", "10000", True),
        "</cac:AccountingSupplierParty>\n<cac:AccountingCustomerParty>",
        _ubl_party(buyer_siret, buyer_name, "1 place de la Mairie", "Chaource", "10210", False),
        "</cac:AccountingCustomerParty>\n"
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        f"<cac:PayeeFinancialAccount><cbc:ID>{_IBAN}</cbc:ID></cac:PayeeFinancialAccount>"
        "</cac:PaymentMeans>\n"
        f'<cac:TaxTotal><cbc:TaxAmount currencyID="{cur}">{amounts.tax_total}</cbc:TaxAmount>'
        f'<cac:TaxSubtotal><cbc:TaxableAmount currencyID="{cur}">{amounts.total_without_tax}'
        f'</cbc:TaxableAmount><cbc:TaxAmount currencyID="{cur}">{amounts.tax_total}'
        f"</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{rate}</cbc:Percent>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"
        "</cac:TaxTotal>\n<cac:LegalMonetaryTotal>"
        f'<cbc:LineExtensionAmount currencyID="{cur}">{amounts.total_without_tax}'
        f'</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount currencyID="{cur}">'
        f"{amounts.total_without_tax}</cbc:TaxExclusiveAmount>"
        f'<cbc:TaxInclusiveAmount currencyID="{cur}">{amounts.total_with_tax}'
        f'</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="{cur}">'
        f"{amounts.total_with_tax}</cbc:PayableAmount></cac:LegalMonetaryTotal>\n",
    ]
    for index, (quantity, price, total) in enumerate(amounts.lines, start=1):
        parts.append(
            f"<cac:{line_tag}><cbc:ID>{index}</cbc:ID>"
            f'<cbc:{qty_tag} unitCode="C62">{quantity}</cbc:{qty_tag}>'
            f'<cbc:LineExtensionAmount currencyID="{cur}">{total}</cbc:LineExtensionAmount>'
            f"<cac:Item><cbc:Name>{_PRODUCTS[index % len(_PRODUCTS)]}</cbc:Name>"
            f"<cac:SellersItemIdentification><cbc:ID>ART-{index:05d}</cbc:ID>"
            "</cac:SellersItemIdentification><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID>"
            f"<cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
            "</cac:ClassifiedTaxCategory></cac:Item>"
            f'<cac:Price><cbc:PriceAmount currencyID="{cur}">{price}</cbc:PriceAmount></cac:Price>'
            f"</cac:{line_tag}>\n"
        )
    parts.append(f"</{root}>\n")
    return "".join(parts).encode("utf-8")


def _cii_party(role: str, siret: str, name: str, street: str, city: str, zone: str) -> str:
    tax = (
        f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{_x(_vat_number(siret))}'
        "</ram:ID></ram:SpecifiedTaxRegistration>"
        if role == "Seller"
        else ""
    )
    # SIRET in the global id (scheme 0009), SIREN as legal registration (0002, BR-FR-10) and
    # electronic address (0225, BR-FR-12/13).
    return (
        f'<ram:{role}TradeParty><ram:GlobalID schemeID="0009">{_x(siret)}</ram:GlobalID>'
        f"<ram:Name>{_x(name)}</ram:Name>"
        f'<ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">{_x(siret[:9])}</ram:ID>'
        "</ram:SpecifiedLegalOrganization>"
        f"<ram:PostalTradeAddress><ram:PostcodeCode>{zone}</ram:PostcodeCode>"
        f"<ram:LineOne>{street}</ram:LineOne><ram:CityName>{city}</ram:CityName>"
        f"<ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>"
        f'<ram:URIUniversalCommunication><ram:URIID schemeID="0225">{_x(siret[:9])}</ram:URIID>'
        f"</ram:URIUniversalCommunication>{tax}</ram:{role}TradeParty>"
    )


def make_cii_invoice(
    *,
    buyer_siret: str,
    supplier_siret: str,
    number: str = "FA-2024-0001",
    issue_date: date | None = None,
    service_code: str | None = None,
    engagement: str | None = None,
    lines: int = 3,
    unit_price: Decimal | str = "100.00",
    vat_rate: Decimal | str = "20.00",
    currency: str = "EUR",
    credit_note: bool = False,
    supplier_name: str = "Fournitures Dupont SARL",
    buyer_name: str = "Commune de Chaource",
) -> bytes:
    """A CII D16B CrossIndustryInvoice valid against the official XSD, as UTF-8 bytes."""
    issued = issue_date or date.today()
    amounts = invoice_amounts(lines, unit_price, vat_rate)
    rate, cur = _x(Decimal(vat_rate)), _x(currency)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice'
        ' xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"'
        ' xmlns:ram="urn:un:unece:uncefact:data:standard:'
        'ReusableAggregateBusinessInformationEntity:100"'
        ' xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">\n'
        "<rsm:ExchangedDocumentContext><ram:BusinessProcessSpecifiedDocumentContextParameter>"
        f"<ram:ID>{BILLING_MODE}</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>"
        "<ram:GuidelineSpecifiedDocumentContextParameter>"
        "<ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>"
        f"</rsm:ExchangedDocumentContext>\n<rsm:ExchangedDocument><ram:ID>{_x(number)}</ram:ID>"
        f"<ram:TypeCode>{381 if credit_note else 380}</ram:TypeCode><ram:IssueDateTime>"
        f'<udt:DateTimeString format="102">{issued:%Y%m%d}</udt:DateTimeString>'
        "</ram:IssueDateTime>"
        + "".join(f"<ram:IncludedNote><ram:Content>{text}</ram:Content>"
                  f"<ram:SubjectCode>{code}</ram:SubjectCode></ram:IncludedNote>"
                  for code, text in _MENTIONS)
        + "</rsm:ExchangedDocument>\n<rsm:SupplyChainTradeTransaction>\n",
    ]
    for index, (quantity, price, total) in enumerate(amounts.lines, start=1):
        parts.append(
            "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>"
            f"<ram:LineID>{index}</ram:LineID></ram:AssociatedDocumentLineDocument>"
            f"<ram:SpecifiedTradeProduct><ram:SellerAssignedID>ART-{index:05d}"
            f"</ram:SellerAssignedID><ram:Name>{_PRODUCTS[index % len(_PRODUCTS)]}</ram:Name>"
            "</ram:SpecifiedTradeProduct><ram:SpecifiedLineTradeAgreement>"
            f"<ram:NetPriceProductTradePrice><ram:ChargeAmount>{price}</ram:ChargeAmount>"
            "</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
            f'<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">{quantity}'
            "</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>"
            "<ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT"
            "</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>"
            f"<ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent>"
            "</ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"<ram:LineTotalAmount>{total}</ram:LineTotalAmount>"
            "</ram:SpecifiedTradeSettlementLineMonetarySummation>"
            "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>\n"
        )
    parts += [
        "<ram:ApplicableHeaderTradeAgreement>",
        f"<ram:BuyerReference>{_x(service_code)}</ram:BuyerReference>" if service_code else "",
        _cii_party(
            "Seller", supplier_siret, supplier_name, "12 rue des Artisans", "Troyes", "10000"
        ),
        _cii_party("Buyer", buyer_siret, buyer_name, "1 place de la Mairie", "Chaource", "10210"),
        "<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>"
        f"{_x(engagement)}</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>"
        if engagement
        else "",
        "</ram:ApplicableHeaderTradeAgreement>\n<ram:ApplicableHeaderTradeDelivery>"
        "<ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime>"
        f'<udt:DateTimeString format="102">{issued:%Y%m%d}</udt:DateTimeString>'
        "</ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent>"
        "</ram:ApplicableHeaderTradeDelivery>\n"
        f"<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>{cur}"
        "</ram:InvoiceCurrencyCode><ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30"
        "</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount>"
        f"<ram:IBANID>{_IBAN}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>"
        "</ram:SpecifiedTradeSettlementPaymentMeans><ram:ApplicableTradeTax>"
        f"<ram:CalculatedAmount>{amounts.tax_total}</ram:CalculatedAmount>"
        f"<ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>{amounts.total_without_tax}"
        "</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>"
        f"<ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent></ram:ApplicableTradeTax>"
        "<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>"
        f'<udt:DateTimeString format="102">{issued + timedelta(days=30):%Y%m%d}'
        "</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>"
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:LineTotalAmount>{amounts.total_without_tax}</ram:LineTotalAmount>"
        f"<ram:TaxBasisTotalAmount>{amounts.total_without_tax}</ram:TaxBasisTotalAmount>"
        f'<ram:TaxTotalAmount currencyID="{cur}">{amounts.tax_total}</ram:TaxTotalAmount>'
        f"<ram:GrandTotalAmount>{amounts.total_with_tax}</ram:GrandTotalAmount>"
        f"<ram:DuePayableAmount>{amounts.total_with_tax}</ram:DuePayableAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "</ram:ApplicableHeaderTradeSettlement>\n"
        "</rsm:SupplyChainTradeTransaction>\n</rsm:CrossIndustryInvoice>\n",
    ]
    return "".join(parts).encode("utf-8")


def make_invoice(syntax: str, **kwargs: object) -> bytes:
    """`make_ubl_invoice` or `make_cii_invoice` by syntax name (`IN_DP_E1_UBL_INVOICE`, ...)."""
    if syntax == "IN_DP_E1_UBL_INVOICE":
        return make_ubl_invoice(**kwargs)  # type: ignore[arg-type]
    if syntax == "IN_DP_E1_CII_16B":
        return make_cii_invoice(**kwargs)  # type: ignore[arg-type]
    raise ValueError(f"unknown syntax {syntax!r}")

