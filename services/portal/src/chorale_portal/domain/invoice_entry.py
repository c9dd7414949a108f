"""An invoice typed in the portal's form (« Saisir une facture »): its amounts, computed as
EN 16931 wants them, and the UN/CEFACT CII D16B document Chorale deposits for it.

Pure functions, no I/O. The amounts follow the standard's own arithmetic so that the document
passes its rules: a line's net amount is quantity × net price rounded to the cent (BR-LIN-04),
the VAT breakdown has one entry per (category, rate) whose tax is its basis × rate rounded to the
cent (BR-CO-17), the invoice's VAT is the sum of the breakdown (BR-CO-14), the total with VAT
is the net total plus VAT (BR-CO-15). The document carries what the French rules (FNFE 1.4)
ask of every invoice: the SIRET (scheme 0009), the SIREN as legal registration (0002) and
electronic address (0225), the billing mode (BT-23) and the three mandatory notes (BT-22)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape

from chorale_portal.domain.form_errors import FormErrors

CENT = Decimal("0.01")
# The French VAT rates a supplier may pick; 0 is « zero rated » (category Z).
VAT_RATES: dict[str, str] = {"20": "20 %", "10": "10 %", "5.5": "5,5 %", "2.1": "2,1 %",
                             "0": "0 %"}
MAX_LINES = 50
DEFAULT_LINES = 3
MAX_TEXT = 200
BILLING_MODE = "B1"  # BT-23 (BR-FR-08): invoice for goods or services, deposited for payment
# BR-FR-05: the notes every French invoice carries (BT-22), by subject code (BT-21).
MENTIONS = (
    ("PMT", "Indemnité forfaitaire pour frais de recouvrement : 40 EUR."),
    ("PMD", "Pénalités de retard : trois fois le taux d'intérêt légal."),
    ("AAB", "Pas d'escompte pour paiement anticipé."),
)


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal  # net price, without VAT (BT-146)
    vat_rate: Decimal

    @property
    def net(self) -> Decimal:
        """BT-131: quantity × price, rounded to the cent."""
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def category(self) -> str:
        return "S" if self.vat_rate > 0 else "Z"


@dataclass(frozen=True)
class VatBreakdown:
    category: str  # S (standard) or Z (zero rated)
    rate: Decimal
    basis: Decimal  # BT-116
    tax: Decimal  # BT-117


@dataclass(frozen=True)
class Totals:
    lines_total: Decimal  # BT-106 = BT-109 (no document-level allowance or charge)
    vat: tuple[VatBreakdown, ...]
    tax_total: Decimal  # BT-110
    grand_total: Decimal  # BT-112 = BT-115 (nothing paid in advance)


def totals(lines: Iterable[Line]) -> Totals:
    """The invoice's totals and VAT breakdown, from its lines."""
    lines = list(lines)
    bases: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = (line.category, line.vat_rate)
        bases[key] = bases.get(key, Decimal("0.00")) + line.net
    vat = tuple(
        VatBreakdown(category, rate, basis,
                     (basis * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP))
        for (category, rate), basis in sorted(bases.items(), key=lambda kv: -kv[0][1])
    )
    lines_total = sum((line.net for line in lines), Decimal("0.00"))
    tax_total = sum((v.tax for v in vat), Decimal("0.00"))
    return Totals(lines_total, vat, tax_total, lines_total + tax_total)


@dataclass(frozen=True)
class Party:
    identifier: str  # SIRET
    name: str
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str = "FR"
    vat_number: str | None = None


@dataclass(frozen=True)
class InvoiceEntry:
    number: str
    issue_date: date
    due_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    service_code: str | None = None
    engagement: str | None = None
    iban: str | None = None
    note: str | None = None
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", totals(self.lines))


def french_vat_number(siret: str) -> str | None:
    """The intra-community VAT number of a French company, from its SIREN (the official key:
    (12 + 3 × (SIREN mod 97)) mod 97)."""
    siren = siret[:9]
    if len(siren) != 9 or not siren.isdigit():
        return None
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


# -- the form ---------------------------------------------------------------------------------
def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        number = Decimal(value.strip().replace(" ", "").replace("\u202f", "").replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def line_count(form: Mapping[str, Any]) -> int:
    """How many line rows the form shows (« Ajouter une ligne » adds one)."""
    try:
        count = int(str(form.get("lignes") or DEFAULT_LINES))
    except ValueError:
        count = DEFAULT_LINES
    return max(1, min(MAX_LINES, count))


def lines_of(form: Mapping[str, Any], errors: FormErrors) -> list[Line]:
    """The form's non-empty line rows (`ligne-<n>-libelle`, `-quantite`, `-prix`, `-tva`)."""
    found: list[Line] = []
    for n in range(1, line_count(form) + 1):
        prefix = f"ligne-{n}-"
        description = _text(form, prefix + "libelle")
        raw_quantity, raw_price = _text(form, prefix + "quantite"), _text(form, prefix + "prix")
        if description is None and raw_quantity is None and raw_price is None:
            continue  # an unused row
        if description is None:
            errors.add(prefix + "libelle", f"Ligne {n} : indiquez la désignation.")
        elif len(description) > MAX_TEXT:
            errors.add(prefix + "libelle", f"Ligne {n} : la désignation dépasse "
                       f"{MAX_TEXT} caractères.")
        quantity, price = _decimal(raw_quantity), _decimal(raw_price)
        if quantity is None or quantity <= 0 or quantity.as_tuple().exponent < -4:  # type: ignore[operator]
            errors.add(prefix + "quantite", f"Ligne {n} : la quantité doit être un nombre "
                       "positif (4 décimales au plus).")
        elif quantity > Decimal("1000000"):
            errors.add(prefix + "quantite", f"Ligne {n} : la quantité est trop grande.")
        if price is None or price < 0 or price.as_tuple().exponent < -4:  # type: ignore[operator]
            errors.add(prefix + "prix", f"Ligne {n} : le prix unitaire hors taxes doit être un "
                       "montant positif ou nul (4 décimales au plus).")
        elif price > Decimal("100000000"):
            errors.add(prefix + "prix", f"Ligne {n} : le prix unitaire est trop grand.")
        rate = str(form.get(prefix + "tva") or "")
        if rate not in VAT_RATES:
            errors.add(prefix + "tva", f"Ligne {n} : choisissez un taux de TVA.")
        if description and quantity is not None and price is not None and rate in VAT_RATES \
                and not any(k.startswith(prefix) for k in errors.fields):
            found.append(Line(description, quantity, price, Decimal(rate)))
    if not found and not errors:
        errors.add("ligne-1-libelle", "Saisissez au moins une ligne de facture.")
    return found


def _date(form: Mapping[str, Any], name: str, label: str, errors: FormErrors) -> date | None:
    value = _text(form, name)
    if value is None:
        errors.add(name, f"{label} : ce champ est obligatoire.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(name, f"{label} : indiquez une date valide (jj/mm/aaaa).")
        return None


def entry_of(form: Mapping[str, Any], *, seller: Party, buyer: Party | None,
             today: date) -> tuple[InvoiceEntry | None, FormErrors]:
    """The invoice the form describes, or the form's errors. `buyer` None: the recipient is
    not a public structure of the directory (the error is on its field)."""
    errors = FormErrors()
    if buyer is None:
        errors.add("destinataire", "Destinataire : indiquez le SIRET d'une structure publique "
                   "de l'annuaire.")
    number = _text(form, "numero")
    if number is None:
        errors.add("numero", "Numéro de facture : ce champ est obligatoire.")
    elif len(number) > 20 or any(c in number for c in "<>&\"'") or not number.isprintable():
        errors.add("numero", "Numéro de facture : 20 caractères au plus, sans < > & ni "
                   "guillemets.")
    issued = _date(form, "dateFacture", "Date de facture", errors)
    if issued is not None and issued > today:
        errors.add("dateFacture", "Date de facture : elle ne peut pas être dans le futur.")
    due = _date(form, "dateEcheance", "Date d'échéance", errors)
    if issued is not None and due is not None and due < issued:
        errors.add("dateEcheance", "Date d'échéance : elle ne peut pas précéder la date de "
                   "facture.")
    engagement = _text(form, "numeroEngagement")
    if engagement and len(engagement) > 50:
        errors.add("numeroEngagement", "Numéro d'engagement : 50 caractères au plus.")
    service = _text(form, "codeService")
    if service and len(service) > 100:
        errors.add("codeService", "Code service : 100 caractères au plus.")
    iban = (_text(form, "iban") or "").replace(" ", "").upper() or None
    if iban and (not iban.isalnum() or not 15 <= len(iban) <= 34):
        errors.add("iban", "IBAN : 15 à 34 lettres et chiffres.")
    note = _text(form, "note")
    if note and len(note) > 500:
        errors.add("note", "Commentaire : 500 caractères au plus.")
    lines = lines_of(form, errors)
    if errors or buyer is None or number is None or issued is None or due is None:
        return None, errors
    return InvoiceEntry(number=number, issue_date=issued, due_date=due, seller=seller,
                        buyer=buyer, lines=tuple(lines), service_code=service,
                        engagement=engagement, iban=iban, note=note), errors


def default_form(today: date) -> dict[str, str]:
    return {"dateFacture": today.isoformat(),
            "dateEcheance": (today + timedelta(days=30)).isoformat(),
            "lignes": str(DEFAULT_LINES),
            **{f"ligne-{n}-tva": "20" for n in range(1, DEFAULT_LINES + 1)}}


# -- the document -----------------------------------------------------------------------------
def _x(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _number(value: Decimal) -> str:
    """A quantity, price or rate as written in the document: no exponent, no useless zero."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _party(role: str, party: Party, *, seller: bool) -> str:
    siren = party.identifier[:9]
    address = "".join((
        f"<ram:PostcodeCode>{_x(party.postcode)}</ram:PostcodeCode>" if party.postcode else "",
        f"<ram:LineOne>{_x(party.street)}</ram:LineOne>" if party.street else "",
        f"<ram:CityName>{_x(party.city)}</ram:CityName>" if party.city else "",
        f"<ram:CountryID>{_x(party.country or 'FR')}</ram:CountryID>",
    ))
    vat = party.vat_number or (french_vat_number(party.identifier) if seller else None)
    tax = (f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{_x(vat)}</ram:ID>'
           "</ram:SpecifiedTaxRegistration>") if seller and vat else ""
    return (
        f'<ram:{role}TradeParty><ram:GlobalID schemeID="0009">{_x(party.identifier)}'
        f"</ram:GlobalID><ram:Name>{_x(party.name)}</ram:Name>"
        f'<ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">{_x(siren)}</ram:ID>'
        f"</ram:SpecifiedLegalOrganization><ram:PostalTradeAddress>{address}"
        '</ram:PostalTradeAddress><ram:URIUniversalCommunication><ram:URIID schemeID="0225">'
        f"{_x(siren)}</ram:URIID></ram:URIUniversalCommunication>{tax}</ram:{role}TradeParty>"
    )


def _tax(category: str, rate: Decimal) -> str:
    return (f"<ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>{category}</ram:CategoryCode>"
            f"<ram:RateApplicablePercent>{_number(rate)}</ram:RateApplicablePercent>")


def _line(index: int, line: Line) -> str:
    return (
        "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>"
        f"<ram:LineID>{index}</ram:LineID></ram:AssociatedDocumentLineDocument>"
        f"<ram:SpecifiedTradeProduct><ram:Name>{_x(line.description)}</ram:Name>"
        "</ram:SpecifiedTradeProduct><ram:SpecifiedLineTradeAgreement>"
        "<ram:NetPriceProductTradePrice>"
        f"<ram:ChargeAmount>{_number(line.unit_price)}</ram:ChargeAmount>"
        "</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
        '<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">'
        f"{_number(line.quantity)}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>"
        f"<ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax>"
        f"{_tax(line.category, line.vat_rate)}</ram:ApplicableTradeTax>"
        "<ram:SpecifiedTradeSettlementLineMonetarySummation>"
        f"<ram:LineTotalAmount>{_amount(line.net)}</ram:LineTotalAmount>"
        "</ram:SpecifiedTradeSettlementLineMonetarySummation>"
        "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>\n"
    )


def _breakdown(vat: Sequence[VatBreakdown]) -> str:
    parts = []
    for v in vat:  # no exemption reason: a Z category must not have one (BR-Z-10)
        parts.append(
            f"<ram:ApplicableTradeTax><ram:CalculatedAmount>{_amount(v.tax)}"
            f"</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>"
            f"<ram:BasisAmount>{_amount(v.basis)}</ram:BasisAmount>"
            f"<ram:CategoryCode>{v.category}</ram:CategoryCode>"
            f"<ram:RateApplicablePercent>{_number(v.rate)}</ram:RateApplicablePercent>"
            "</ram:ApplicableTradeTax>")
    return "".join(parts)


def cii_invoice(entry: InvoiceEntry) -> bytes:
    """The entry as an EN 16931 CII D16B CrossIndustryInvoice (commercial invoice 380, EUR),
    UTF-8."""
    t = entry.totals
    notes = list(MENTIONS)
    if entry.note:
        notes.insert(0, ("", entry.note))
    note_xml = "".join(
        f"<ram:IncludedNote><ram:Content>{_x(text)}</ram:Content>"
        + (f"<ram:SubjectCode>{code}</ram:SubjectCode>" if code else "") + "</ram:IncludedNote>"
        for code, text in notes)
    payment = (
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30</ram:TypeCode>"
        f"<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{_x(entry.iban)}</ram:IBANID>"
        "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
    ) if entry.iban else ""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice'
        ' xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"'
        ' xmlns:ram="urn:un:unece:uncefact:data:standard:'
        'ReusableAggregateBusinessInformationEntity:100"'
        ' xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">\n'
        "<rsm:ExchangedDocumentContext><ram:BusinessProcessSpecifiedDocumentContextParameter>"
        f"<ram:ID>{BILLING_MODE}</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>"
        "<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017"
        "</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>"
        "</rsm:ExchangedDocumentContext>\n"
        f"<rsm:ExchangedDocument><ram:ID>{_x(entry.number)}</ram:ID>"
        "<ram:TypeCode>380</ram:TypeCode><ram:IssueDateTime>"
        f'<udt:DateTimeString format="102">{entry.issue_date:%Y%m%d}</udt:DateTimeString>'
        f"</ram:IssueDateTime>{note_xml}</rsm:ExchangedDocument>\n"
        "<rsm:SupplyChainTradeTransaction>\n",
        *(_line(i, line) for i, line in enumerate(entry.lines, start=1)),
        "<ram:ApplicableHeaderTradeAgreement>",
        f"<ram:BuyerReference>{_x(entry.service_code)}</ram:BuyerReference>"
        if entry.service_code else "",
        _party("Seller", entry.seller, seller=True),
        _party("Buyer", entry.buyer, seller=False),
        "<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>"
        f"{_x(entry.engagement)}</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>"
        if entry.engagement else "",
        "</ram:ApplicableHeaderTradeAgreement>\n<ram:ApplicableHeaderTradeDelivery>"
        "<ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime>"
        f'<udt:DateTimeString format="102">{entry.issue_date:%Y%m%d}</udt:DateTimeString>'
        "</ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent>"
        "</ram:ApplicableHeaderTradeDelivery>\n<ram:ApplicableHeaderTradeSettlement>"
        f"<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>{payment}"
        f"{_breakdown(t.vat)}<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>"
        f'<udt:DateTimeString format="102">{entry.due_date:%Y%m%d}</udt:DateTimeString>'
        "</ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>"
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:LineTotalAmount>{_amount(t.lines_total)}</ram:LineTotalAmount>"
        f"<ram:TaxBasisTotalAmount>{_amount(t.lines_total)}</ram:TaxBasisTotalAmount>"
        f'<ram:TaxTotalAmount currencyID="EUR">{_amount(t.tax_total)}</ram:TaxTotalAmount>'
        f"<ram:GrandTotalAmount>{_amount(t.grand_total)}</ram:GrandTotalAmount>"
        f"<ram:DuePayableAmount>{_amount(t.grand_total)}</ram:DuePayableAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "</ram:ApplicableHeaderTradeSettlement>\n"
        "</rsm:SupplyChainTradeTransaction>\n</rsm:CrossIndustryInvoice>\n",
    ]
    return "".join(parts).encode("utf-8")


def file_name(entry: InvoiceEntry) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in entry.number)
    return f"facture-{safe}.xml"
