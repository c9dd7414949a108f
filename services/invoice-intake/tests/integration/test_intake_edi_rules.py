"""Through the EDI folder, on the real broker and database: each file ends with its CR in
out/, accepted or rejected with the right rule code, and its events on Kafka."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chorale_contracts import Topic, topic_name
from chorale_intake.bootstrap import build_app
from chorale_runtime.testing.kafka_probe import collect
from chorale_runtime.testing.servers import serve_in_process, wait_ready

pytestmark = pytest.mark.integration

DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&x;</Invoice>')


def cases(kit) -> dict[str, tuple[bytes, set[str]]]:
    """file name -> (content, expected codes); an empty set means IN_INTEGRE."""
    yesterday = kit.today() - timedelta(days=1)
    same = kit.invoice(number="FA-DOUBLON-1")
    return {
        "ok-ubl.xml": (kit.invoice(), set()),
        "ok-cii.xml": (kit.invoice(kit.CII), set()),
        "ok-other-buyer-no-service.xml": (
            kit.invoice(buyer_siret=kit.OTHER_BUYER, service_code=None), set()),
        "service-required.xml": (kit.invoice(service_code=None), {"SERVICE_CODE_REQUIRED"}),
        "service-ended-yesterday.xml": (kit.invoice(service_code="ANCIEN", issue_date=kit.today()),
                                        {"SERVICE_INACTIVE"}),
        "service-ok-before-its-end.xml": (kit.invoice(service_code="ANCIEN", issue_date=yesterday),
                                          set()),
        "service-inactif.xml": (kit.invoice(service_code="FERME"), {"SERVICE_INACTIVE"}),
        "service-unknown.xml": (kit.invoice(service_code="NOPE"), {"SERVICE_UNKNOWN"}),
        "supplier-not-partner.xml": (kit.invoice(supplier_siret=kit.OTHER_SUPPLIER),
                                     {"SUPPLIER_NOT_PARTNER"}),
        "recipient-unknown.xml": (kit.invoice(buyer_siret="11111111111111"), {"RECIPIENT_UNKNOWN"}),
        "future.xml": (kit.invoice(issue_date=kit.today() + timedelta(days=3)),
                       {"ISSUE_DATE_IN_FUTURE"}),
        "dtd.xml": (DTD, {"XML_FORBIDDEN_DTD"}),
        "doublon-a.xml": (same, set()),
        "empty.xml": (b"", {"EMPTY_FILE"}),
        "not-xml.txt": (b"bonjour", {"XML_MALFORMED"}),
        "too-large.xml": (kit.invoice(lines=400), {"FILE_TOO_LARGE"}),
        "syntax-unknown.xml": (b"<html><body>facture</body></html>", {"SYNTAX_UNKNOWN"}),
        "xsd-invalid.xml": (kit.invoice().replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x"),
                            {"XSD_INVALID"}),
        "recipient-missing.xml": (without_buyer_id(kit.invoice()), {"RECIPIENT_MISSING"}),
        "recipient-not-public.xml": (kit.invoice(buyer_siret=kit.SUPPLIER, service_code=None),
                                     {"RECIPIENT_NOT_PUBLIC"}),
        "recipient-inactive.xml": (kit.invoice(buyer_siret=kit.CLOSED_BUYER, service_code=None),
                                   {"RECIPIENT_INACTIVE"}),
        "reserved-service.xml": (kit.invoice(service_code="FACTURES_PUBLIQUES"),
                                 {"SERVICE_RESERVED"}),
        "ej-required.xml": (kit.invoice(buyer_siret=kit.EJ_BUYER, service_code=None),
                            {"ENGAGEMENT_REQUIRED"}),
        "ej-given.xml": (kit.invoice(buyer_siret=kit.EJ_BUYER, service_code=None,
                                     engagement="EJ-2024-001"), set()),
        "ej-required-by-service.xml": (
            kit.invoice(buyer_siret=kit.OTHER_BUYER, service_code="EJ-OBLIG"),
            {"ENGAGEMENT_REQUIRED"}),
        "ej-too-long.xml": (kit.invoice(engagement="E" * 51), {"ENGAGEMENT_TOO_LONG"}),
        "one-of-missing.xml": (kit.invoice(buyer_siret=kit.ONE_OF_BUYER, service_code=None),
                               {"SERVICE_OR_ENGAGEMENT_REQUIRED"}),
        "one-of-engagement.xml": (kit.invoice(buyer_siret=kit.ONE_OF_BUYER, service_code=None,
                                              engagement="EJ-9"), set()),
    }


def public_cases(kit) -> dict[str, tuple[bytes, set[str]]]:
    """Deposited by ta-pub, the technical account of a public structure (OTHER_BUYER)."""
    return {
        "public-to-public.xml": (kit.invoice(supplier_siret=kit.OTHER_BUYER,
                                             service_code="FACTURES_PUBLIQUES"), set()),
    }


def without_buyer_id(raw: bytes) -> bytes:
    """An invoice whose buyer has no identifier (still XSD-valid: it is optional in UBL)."""
    head, sep, tail = raw.partition(b"<cac:AccountingCustomerParty>")
    start = tail.index(b"<cac:PartyIdentification>")
    end = tail.index(b"</cac:PartyIdentification>") + len(b"</cac:PartyIdentification>")
    return head + sep + tail[:start] + tail[end:]


async def test_each_rule_rejects_or_accepts_through_the_folder(
    infra, namespace, intake_settings, kit
):
    settings = intake_settings.model_copy(update={"max_bytes": 100_000})
    app = build_app(settings)
    root = settings.edi_root
    files = cases(kit)
    public = public_cases(kit)
    async with serve_in_process(app) as base:
        await kit.seed(infra, namespace)
        await kit.publish(infra, namespace, kit.Topic.IDENTITY,
                          [kit.account_created("ta-pub", kit.OTHER_BUYER)])
        await wait_ready(base)
        await kit.wait_folder(root, "ta-1")
        await kit.wait_folder(root, "ta-pub")
        for name, (data, _) in files.items():
            kit.drop(root, "ta-1", name, data)
        for name, (data, _) in public.items():
            kit.drop(root, "ta-pub", name, data)
        crs = await kit.wait_terminal(root, "ta-1", files)
        public_crs = await kit.wait_terminal(root, "ta-pub", public)
        for name, (_, expected) in public.items():
            assert kit.codes(public_crs[name]) == expected, (name, public_crs[name])
        # the same invoice again, once the first is integrated; and with another error too
        kit.drop(root, "ta-1", "doublon-b.xml", files["doublon-a.xml"][0])
        kit.drop(root, "ta-1", "doublon-c.xml",
                 kit.invoice(number="FA-DOUBLON-1", service_code="NOPE"))
        crs.update(await kit.wait_terminal(root, "ta-1", ["doublon-b.xml", "doublon-c.xml"]))

        for name, (_, expected) in files.items():
            cr = crs[name]
            assert kit.codes(cr) == expected, (name, cr)
            assert cr["statut"] == ("IN_REJETE" if expected else "IN_INTEGRE"), name
        dup = crs["doublon-b.xml"]
        assert dup["statut"] == "IN_REJETE" and kit.codes(dup) == {"DUPLICATE_INVOICE"}
        assert kit.codes(crs["doublon-c.xml"]) == {"SERVICE_UNKNOWN", "DUPLICATE_INVOICE"}
        inactive = crs["service-ended-yesterday.xml"]["listeErreurDP"][0]
        assert inactive["identifiantDestinataire"] == kit.BUYER
        assert inactive["chemin"] == "/Invoice/cbc:BuyerReference"
        assert "ANCIEN" in inactive["message"]

        flow_events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.FLOWS, namespace.topic_prefix),
            until=lambda evs: sum(e.payload["statut"] in kit.TERMINAL for e in evs)
            >= len(crs) + len(public_crs),
        )
        by_flow: dict[str, list[str]] = {}
        for event in flow_events:
            by_flow.setdefault(event.key, []).append(event.payload["statut"])
        assert len(by_flow) == len(crs) + len(public_crs)
        for statuses in by_flow.values():
            assert statuses[:3] == ["IN_RECU", "IN_EN_ATTENTE_TRAITEMENT",
                                    "IN_EN_COURS_TRAITEMENT"]
            assert len(statuses) == 4 and statuses[3] in kit.TERMINAL
        integrated = sum(c["statut"] == "IN_INTEGRE" for c in (*crs.values(),
                                                              *public_crs.values()))
        invoice_events = await collect(
            infra.kafka_bootstrap, topic_name(Topic.INVOICES, namespace.topic_prefix),
            until=lambda evs: len(evs) >= 2 * integrated,
        )
        available = [e for e in invoice_events if e.event_type == "invoice.made_available"]
        assert len(available) == integrated
        assert len({e.payload["invoiceId"] for e in available}) == integrated
