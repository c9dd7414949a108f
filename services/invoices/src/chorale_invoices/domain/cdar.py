"""Lifecycle messages for partners: a CDAR (UN/CEFACT CrossDomainAcknowledgementAndResponse
D22B, AFNOR XP Z12-012 v1.4 profile) for each status the supplier may see. Pure: builds bytes.

Mapping (docs/cdar.md): the buyer (recipient structure, role BY) sends and issues the message
to the seller (supplier, role SE); the acknowledged document is the invoice (MDT-87 number,
MDG-35 issue date, MDT-129 seller SIRET); MDT-105 is the status code (`CDAR_CODES`), MDT-113
the motif and the comment its free text. (A flow rejected at deposit, 213, is not sent yet:
see docs/cdar.md.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from lxml import etree

from chorale_invoices.domain.statuses import CDAR_LABELS

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
GUIDELINE = "urn.cpro.gouv.fr:1p0:CDV:invoice"
SIRET_SCHEME = "0009"  # ISO 6523 ICD of the SIRET
# MDT-91: the document types BR-FR-04 accepts; anything else is acknowledged as an invoice.
_DOCUMENT_TYPES = set("380 389 393 501 386 500 384 471 472 473 261 262 381 396 502 503".split())


@dataclass(frozen=True)
class Party:
    siret: str
    name: str | None
    role: str  # BY buyer, SE seller, WK platform


@dataclass(frozen=True)
class StatusMessage:
    """What one CDAR says."""

    message_id: str
    issued_at: datetime
    code: str  # MDT-105
    invoice_number: str
    invoice_date: date | None
    invoice_type: str | None
    sender: Party
    recipient: Party
    seller: str  # SIRET (MDT-129)
    motif: str | None = None
    comment: str | None = None
    status_label: str | None = None  # the Chorale status, told in ProcessCondition
    sequence: int = 1


def _el(parent: etree._Element, ns: str, tag: str, text: str | None = None,
        **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        node.text = text
    return node


def _datetime(parent: etree._Element, tag: str, moment: datetime) -> None:
    holder = _el(parent, RAM, tag)
    _el(holder, UDT, "DateTimeString", moment.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
        format="204")


def _party(parent: etree._Element, tag: str, party: Party, *, uri: bool = False,
           global_id: bool = True) -> None:
    node = _el(parent, RAM, tag)
    # BR-FR-CDV-CL-09 reads a sender's GlobalID as a platform registration (scheme 0238, 9999
    # = the PPF) before it accepts the B2G refusal motifs: the sender is named by its ID.
    _el(node, RAM, "GlobalID" if global_id else "ID", party.siret, schemeID=SIRET_SCHEME)
    if party.name:
        _el(node, RAM, "Name", party.name[:200])
    _el(node, RAM, "RoleCode", party.role)
    if uri:  # MDT-73: the recipient's electronic address (its SIRET)
        comm = _el(node, RAM, "URIUniversalCommunication")
        _el(comm, RAM, "URIID", party.siret, schemeID=SIRET_SCHEME)


def build(message: StatusMessage) -> bytes:
    root = etree.Element(f"{{{RSM}}}CrossDomainAcknowledgementAndResponse", nsmap=_NSMAP)
    context = _el(root, RSM, "ExchangedDocumentContext")
    _el(_el(context, RAM, "BusinessProcessSpecifiedDocumentContextParameter"), RAM, "ID",
        "REGULATED")
    _el(_el(context, RAM, "GuidelineSpecifiedDocumentContextParameter"), RAM, "ID", GUIDELINE)

    document = _el(root, RSM, "ExchangedDocument")
    _el(document, RAM, "ID", message.message_id)
    _el(document, RAM, "Name", "Statut de facture")
    _datetime(document, "IssueDateTime", message.issued_at)
    _party(document, "SenderTradeParty", message.sender, global_id=False)
    _party(document, "IssuerTradeParty", message.sender)
    _party(document, "RecipientTradeParty", message.recipient, uri=True)

    ack = _el(root, RSM, "AcknowledgementDocument")
    _el(_el(ack, RAM, "MultipleReferencesIndicator"), UDT, "Indicator", "false")
    _el(ack, RAM, "TypeCode", "23")  # phase Traitement
    _datetime(ack, "IssueDateTime", message.issued_at)

    reference = _el(ack, RAM, "ReferenceReferencedDocument")
    _el(reference, RAM, "IssuerAssignedID", message.invoice_number)
    invoice_type = message.invoice_type if message.invoice_type in _DOCUMENT_TYPES else "380"
    _el(reference, RAM, "TypeCode", invoice_type)
    if message.invoice_date is not None:
        formatted = _el(reference, RAM, "FormattedIssueDateTime")
        _el(formatted, QDT, "DateTimeString", message.invoice_date.strftime("%Y%m%d"),
            format="102")
    _el(reference, RAM, "ProcessConditionCode", message.code)
    _el(reference, RAM, "ProcessCondition",
        message.status_label or CDAR_LABELS.get(message.code, message.code))
    issuer = _el(reference, RAM, "IssuerTradeParty")
    _el(issuer, RAM, "GlobalID", message.seller, schemeID=SIRET_SCHEME)
    _el(issuer, RAM, "RoleCode", "SE")
    if message.motif or message.comment:
        status = _el(reference, RAM, "SpecifiedDocumentStatus")
        if message.motif:
            _el(status, RAM, "ReasonCode", message.motif)
        if message.comment:
            _el(status, RAM, "Reason", message.comment[:1000])
        _el(status, RAM, "SequenceNumeric", str(message.sequence))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
