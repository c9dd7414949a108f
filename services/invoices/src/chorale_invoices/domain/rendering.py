"""A readable rendering of an invoice's content for people — parties, lines, VAT breakdown,
totals, payment — read from the original UBL 2.1 or CII D16B file. Pure (bytes in, dict out).

The original stays the intake's: the invoices service fetches it through the intake's
authorized route with the caller's own token each time it is shown (nothing copied here).
Parsing refuses DTDs and entities (the intake validated the file, this is defence in depth).
A Factur-X PDF is not rendered here (its XML is inside the PDF): the original link serves it.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from chorale_invoices.domain.errors import InvoiceError

UBL_NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True)


def _unavailable(reason: str) -> InvoiceError:
    return InvoiceError("RENDERING_UNAVAILABLE", f"Le contenu de la facture ne peut pas être "
                        f"affiché : {reason}. Téléchargez le fichier original.", status=422)


def render(original: bytes) -> dict[str, Any]:
    if original.startswith(b"%PDF"):
        raise _unavailable("facture Factur-X (PDF)")
    try:
        root = etree.fromstring(original, _PARSER)
    except etree.XMLSyntaxError:
        raise _unavailable("fichier XML illisible") from None
    if root.getroottree().docinfo.doctype:
        raise _unavailable("déclaration DOCTYPE")
    namespace = etree.QName(root).namespace
    if namespace in (UBL_NS["inv"], UBL_NS["cn"]):
        return _ubl(root)
    if namespace == CII_NS["rsm"]:
        return _cii(root)
    raise _unavailable("syntaxe inconnue")


def _text(node: Any, path: str, ns: dict[str, str]) -> str | None:
    found = node.find(path, ns) if node is not None else None
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


# -- UBL 2.1 --------------------------------------------------------------------------------------
def _ubl_party(party: Any) -> dict[str, Any]:
    ns = UBL_NS
    address = party.find("cac:PostalAddress", ns) if party is not None else None
    return _compact({
        "nom": _text(party, "cac:PartyLegalEntity/cbc:RegistrationName", ns)
        or _text(party, "cac:PartyName/cbc:Name", ns),
        "identifiant": _text(party, "cac:PartyIdentification/cbc:ID", ns)
        or _text(party, "cac:PartyLegalEntity/cbc:CompanyID", ns),
        "numeroTva": _text(party, "cac:PartyTaxScheme/cbc:CompanyID", ns),
        "adresse": _compact({
            "ligne": _text(address, "cbc:StreetName", ns),
            "complement": _text(address, "cbc:AdditionalStreetName", ns),
            "codePostal": _text(address, "cbc:PostalZone", ns),
            "ville": _text(address, "cbc:CityName", ns),
            "pays": _text(address, "cac:Country/cbc:IdentificationCode", ns),
        }),
    })


def _ubl(root: Any) -> dict[str, Any]:
    ns = UBL_NS
    credit = etree.QName(root).namespace == ns["cn"]
    line_tag, quantity_tag = ("cac:CreditNoteLine", "cbc:CreditedQuantity") if credit else (
        "cac:InvoiceLine", "cbc:InvoicedQuantity")
    lines = []
    for line in root.findall(line_tag, ns):
        quantity = line.find(quantity_tag, ns)
        lines.append(_compact({
            "numero": _text(line, "cbc:ID", ns),
            "designation": _text(line, "cac:Item/cbc:Name", ns),
            "reference": _text(line, "cac:Item/cac:SellersItemIdentification/cbc:ID", ns),
            "quantite": quantity.text.strip() if quantity is not None and quantity.text
            else None,
            "unite": quantity.get("unitCode") if quantity is not None else None,
            "prixUnitaireHT": _text(line, "cac:Price/cbc:PriceAmount", ns),
            "montantHT": _text(line, "cbc:LineExtensionAmount", ns),
            "categorieTva": _text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID", ns),
            "tauxTva": _text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", ns),
        }))
    vat = [_compact({
        "categorie": _text(sub, "cac:TaxCategory/cbc:ID", ns),
        "taux": _text(sub, "cac:TaxCategory/cbc:Percent", ns),
        "baseHT": _text(sub, "cbc:TaxableAmount", ns),
        "montantTva": _text(sub, "cbc:TaxAmount", ns),
        "motifExoneration": _text(sub, "cac:TaxCategory/cbc:TaxExemptionReason", ns),
    }) for sub in root.findall("cac:TaxTotal/cac:TaxSubtotal", ns)]
    totals = root.find("cac:LegalMonetaryTotal", ns)
    return _compact({
        "syntaxe": "UBL", "numero": _text(root, "cbc:ID", ns),
        "type": _text(root, "cbc:InvoiceTypeCode", ns)
        or _text(root, "cbc:CreditNoteTypeCode", ns),
        "dateEmission": _text(root, "cbc:IssueDate", ns),
        "dateEcheance": _text(root, "cbc:DueDate", ns)
        or _text(root, "cac:PaymentMeans/cbc:PaymentDueDate", ns),
        "devise": _text(root, "cbc:DocumentCurrencyCode", ns),
        "notes": [n.text.strip() for n in root.findall("cbc:Note", ns) if n.text],
        "vendeur": _ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", ns)),
        "acheteur": _ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", ns)),
        "codeService": _text(root, "cbc:BuyerReference", ns),
        "numeroEngagement": _text(root, "cac:OrderReference/cbc:ID", ns),
        "lignes": lines, "ventilationTva": vat,
        "totaux": _compact({
            "totalLignesHT": _text(totals, "cbc:LineExtensionAmount", ns),
            "totalHT": _text(totals, "cbc:TaxExclusiveAmount", ns),
            "totalTva": _text(root, "cac:TaxTotal/cbc:TaxAmount", ns),
            "totalTTC": _text(totals, "cbc:TaxInclusiveAmount", ns),
            "dejaPaye": _text(totals, "cbc:PrepaidAmount", ns),
            "netAPayer": _text(totals, "cbc:PayableAmount", ns),
        }),
        "paiement": _compact({
            "moyen": _text(root, "cac:PaymentMeans/cbc:PaymentMeansCode", ns),
            "iban": _text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID", ns),
            "conditions": _text(root, "cac:PaymentTerms/cbc:Note", ns),
        }),
    })


# -- CII D16B -------------------------------------------------------------------------------------
def _cii_siret(party: Any) -> str | None:
    """A French party's SIRET is its GlobalID of scheme 0009 (the legal organisation then
    carries the SIREN, scheme 0002), as the intake reads it."""
    if party is None:
        return None
    for node in party.findall("ram:GlobalID", CII_NS):
        if node.get("schemeID") == "0009" and node.text and node.text.strip():
            return node.text.strip()
    return None


def _cii_party(party: Any) -> dict[str, Any]:
    ns = CII_NS
    address = party.find("ram:PostalTradeAddress", ns) if party is not None else None
    return _compact({
        "nom": _text(party, "ram:Name", ns),
        "identifiant": _cii_siret(party)
        or _text(party, "ram:SpecifiedLegalOrganization/ram:ID", ns),
        "numeroTva": _text(party, "ram:SpecifiedTaxRegistration/ram:ID", ns),
        "adresse": _compact({
            "ligne": _text(address, "ram:LineOne", ns),
            "complement": _text(address, "ram:LineTwo", ns),
            "codePostal": _text(address, "ram:PostcodeCode", ns),
            "ville": _text(address, "ram:CityName", ns),
            "pays": _text(address, "ram:CountryID", ns),
        }),
    })


def _cii(root: Any) -> dict[str, Any]:
    ns = CII_NS
    trade = root.find("rsm:SupplyChainTradeTransaction", ns)
    agreement = trade.find("ram:ApplicableHeaderTradeAgreement", ns) if trade is not None \
        else None
    settlement = trade.find("ram:ApplicableHeaderTradeSettlement", ns) if trade is not None \
        else None
    lines = []
    for line in (trade.findall("ram:IncludedSupplyChainTradeLineItem", ns)
                 if trade is not None else []):
        quantity = line.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", ns)
        tax = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/"
        lines.append(_compact({
            "numero": _text(line, "ram:AssociatedDocumentLineDocument/ram:LineID", ns),
            "designation": _text(line, "ram:SpecifiedTradeProduct/ram:Name", ns),
            "reference": _text(line, "ram:SpecifiedTradeProduct/ram:SellerAssignedID", ns),
            "quantite": quantity.text.strip() if quantity is not None and quantity.text
            else None,
            "unite": quantity.get("unitCode") if quantity is not None else None,
            "prixUnitaireHT": _text(line, "ram:SpecifiedLineTradeAgreement/"
                                    "ram:NetPriceProductTradePrice/ram:ChargeAmount", ns),
            "montantHT": _text(line, "ram:SpecifiedLineTradeSettlement/ram:"
                               "SpecifiedTradeSettlementLineMonetarySummation/"
                               "ram:LineTotalAmount", ns),
            "categorieTva": _text(line, tax + "ram:CategoryCode", ns),
            "tauxTva": _text(line, tax + "ram:RateApplicablePercent", ns),
        }))
    vat = [_compact({
        "categorie": _text(tax, "ram:CategoryCode", ns),
        "taux": _text(tax, "ram:RateApplicablePercent", ns),
        "baseHT": _text(tax, "ram:BasisAmount", ns),
        "montantTva": _text(tax, "ram:CalculatedAmount", ns),
        "motifExoneration": _text(tax, "ram:ExemptionReason", ns),
    }) for tax in (settlement.findall("ram:ApplicableTradeTax", ns)
                   if settlement is not None else [])]
    sums = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", ns) \
        if settlement is not None else None
    document = root.find("rsm:ExchangedDocument", ns)
    return _compact({
        "syntaxe": "CII", "numero": _text(document, "ram:ID", ns),
        "type": _text(document, "ram:TypeCode", ns),
        "dateEmission": _iso(_text(document, "ram:IssueDateTime/udt:DateTimeString", ns)),
        "dateEcheance": _iso(_text(settlement, "ram:SpecifiedTradePaymentTerms/"
                                   "ram:DueDateDateTime/udt:DateTimeString", ns)),
        "devise": _text(settlement, "ram:InvoiceCurrencyCode", ns),
        "notes": [n.text.strip() for n in (document.findall("ram:IncludedNote/ram:Content", ns)
                                           if document is not None else []) if n.text],
        "vendeur": _cii_party(agreement.find("ram:SellerTradeParty", ns)
                              if agreement is not None else None),
        "acheteur": _cii_party(agreement.find("ram:BuyerTradeParty", ns)
                               if agreement is not None else None),
        "codeService": _text(agreement, "ram:BuyerReference", ns),
        "numeroEngagement": _text(agreement, "ram:BuyerOrderReferencedDocument/"
                                  "ram:IssuerAssignedID", ns),
        "lignes": lines, "ventilationTva": vat,
        "totaux": _compact({
            "totalLignesHT": _text(sums, "ram:LineTotalAmount", ns),
            "totalHT": _text(sums, "ram:TaxBasisTotalAmount", ns),
            "totalTva": _text(sums, "ram:TaxTotalAmount", ns),
            "totalTTC": _text(sums, "ram:GrandTotalAmount", ns),
            "dejaPaye": _text(sums, "ram:TotalPrepaidAmount", ns),
            "netAPayer": _text(sums, "ram:DuePayableAmount", ns),
        }),
        "paiement": _compact({
            "moyen": _text(settlement, "ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode",
                           ns),
            "iban": _text(settlement, "ram:SpecifiedTradeSettlementPaymentMeans/"
                          "ram:PayeePartyCreditorFinancialAccount/ram:IBANID", ns),
            "conditions": _text(settlement, "ram:SpecifiedTradePaymentTerms/ram:Description",
                                ns),
        }),
    })


def _iso(value: str | None) -> str | None:
    """CII format 102 (YYYYMMDD) → ISO date."""
    if value and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value
