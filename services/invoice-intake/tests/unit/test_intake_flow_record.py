"""The flow record: numbers, stored form, CR, terminal records and their events (pure)."""

from __future__ import annotations

import json
import os
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta

from chorale_contracts import Envelope
from chorale_contracts.events.common import FlowStatus
from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.flow import Etape, Flow
from chorale_intake.domain.numbering import flow_number, is_flow_number
from chorale_intake.domain.outcome import Verdict, conclude, incident, judge, waiting_again
from chorale_intake.service_layer.events import (
    EVENT_ID_NAMESPACE,
    event_id_for,
    restore_events,
    with_events,
)
from chorale_testkit import invoices as samples

NOW = datetime(2024, 6, 14, 9, 30, tzinfo=UTC)


def received(number: str = "FLX20240614-01J0000000000000000000000000") -> Flow:
    flow = Flow(
        numeroFluxDepot=number, canal="EDI", technicalAccountId="ta-1",
        structurePartenaire="73282932000074", nomFichier="facture é.xml",
        statut=FlowStatus.IN_EN_ATTENTE_TRAITEMENT, dateDepot=NOW, dateStatut=NOW,
        historique=(Etape(statut=FlowStatus.IN_RECU, date=NOW),
                    Etape(statut=FlowStatus.IN_EN_ATTENTE_TRAITEMENT, date=NOW)),
        tailleOctets=1234, empreinteSha256="a" * 64, archive="2024/06/14/x",
        correlationId="corr-1",
    )
    return with_events(flow, 2, producer="invoice-intake")


def test_flow_numbers_are_readable_unique_and_sorted_by_time():
    first = flow_number(NOW, os.urandom(10))
    later = flow_number(NOW + timedelta(milliseconds=1), b"\x00" * 10)
    assert first.startswith("FLX20240614-") and is_flow_number(first)
    assert first != flow_number(NOW, os.urandom(10))
    assert later > first.split("-")[0] + "-" + "0" * 26
    assert flow_number(NOW, b"\x00" * 10) < later
    assert not is_flow_number("FLX20240614-../../etc") and not is_flow_number("x")


def test_the_stored_form_round_trips_and_its_outbox_is_derived_again():
    flow = received()
    doc = flow.to_document()
    assert doc["_id"] == flow.number and doc["statut"] == "IN_EN_ATTENTE_TRAITEMENT"
    assert set(doc) == {"_id", "numeroFluxDepot", "canal", "technicalAccountId",
                        "structurePartenaire", "statut", "dateDepot", "tentative", "corps"}
    stored = Flow.from_document(doc)
    assert stored.events == () and stored == flow.model_copy(update={"events": ()})
    assert restore_events(stored, producer="invoice-intake") == flow  # same ids, same bytes
    assert Flow.from_document(flow.to_document("other-key")).number == flow.number


def test_a_terminal_record_read_back_announces_exactly_what_it_announced():
    done = with_events(conclude(received(), _accepted(), started=NOW, finished=NOW,
                                invoice_id="FAC1", duplicate_key="k"), 2,
                       producer="invoice-intake")
    assert len(done.events) == 4
    again = restore_events(Flow.from_document(done.to_document()), producer="invoice-intake")
    assert again.events == done.events


def test_a_document_of_an_earlier_version_keeps_its_stored_envelopes():
    flow = received()
    doc = {**flow.to_document(),
           "evenements": zlib.compress("\n".join(e["value"] for e in flow.events).encode())}
    stored = Flow.from_document(doc)
    # as if they had been drawn at random: kept as they were, never derived again
    assert [e["event_id"] for e in stored.events] == [e["event_id"] for e in flow.events]
    assert restore_events(stored, producer="other") is stored


def test_the_cr_shows_no_internal_field():
    cr = received().compte_rendu()
    assert cr["libelleStatut"] == "En attente de traitement"
    assert cr["nomFichier"] == "facture é.xml"
    for internal in ("archive", "correlationId", "owner", "events", "cleDoublon"):
        assert internal not in cr
    assert json.loads(received().compte_rendu_json()) == cr


def test_receipt_events_are_envelopes_chained_by_causation():
    flow = received()
    first, second = (Envelope.parse_incoming(e["value"]) for e in flow.events)
    assert (first.payload["statut"], second.payload["statut"]) == (
        "IN_RECU", "IN_EN_ATTENTE_TRAITEMENT")
    assert second.payload["statutPrecedent"] == "IN_RECU"
    assert second.causation_id == str(first.event_id)
    assert first.key == flow.number and first.correlation_id == "corr-1"
    assert first.occurred_at == NOW
    assert flow.events[0]["topic"] == "chorale.flows.v1"
    assert flow.events[0]["event_type"] == "flow.status_changed"


def test_a_correlation_id_with_quotes_and_accents_survives_the_envelope():
    tricky = 'partenaire "Élan" \\ ligne\n2'
    flow = with_events(received().model_copy(update={"correlationId": tricky, "events": ()}),
                       2, producer='intake "é"')
    for entry in flow.events:
        envelope = Envelope.parse_incoming(entry["value"])
        assert envelope.correlation_id == tricky == entry["correlation_id"]
        assert envelope.producer == 'intake "é"'


def _unknown_recipient() -> Verdict:
    raw = samples.make_invoice("IN_DP_E1_UBL_INVOICE", buyer_siret="20007104100046",
                               supplier_siret="73282932000074", number="FA-1",
                               issue_date=date(2024, 6, 3), service_code="COMPTA")
    verdict = judge(analyse(raw), partner="73282932000074", recipient=None,
                    partner_is_public=False, today=date(2024, 6, 14), is_duplicate=False)
    assert [e.code for e in verdict.errors] == ["RECIPIENT_UNKNOWN"]
    return verdict


def _accepted() -> Verdict:
    verdict = _unknown_recipient()
    return type(verdict)(verdict.syntax, verdict.facts, ())


def test_an_integrated_flow_announces_its_invoice():
    verdict, accepted = _unknown_recipient(), _accepted()
    done = with_events(conclude(received(), accepted, started=NOW, finished=NOW,
                                invoice_id="FAC1", duplicate_key="k"), 2,
                       producer="invoice-intake")
    assert done.statut is FlowStatus.IN_INTEGRE and done.cleDoublon == "k"
    types = [e["event_type"] for e in done.events]
    # the terminal record's outbox: what its one write announces
    assert types == ["flow.status_changed"] * 2 + ["invoice.deposited",
                                                   "invoice.made_available"]
    available = Envelope.parse_incoming(done.events[-1]["value"])
    assert available.key == "FAC1" and available.payload["montantTTC"] is not None
    terminal = Envelope.parse_incoming(done.events[1]["value"])
    assert terminal.payload["destinataire"] == "20007104100046"
    assert terminal.payload["numeroFacture"] == "FA-1"

    rejected = with_events(conclude(received(), verdict, started=NOW, finished=NOW), 2,
                           producer="invoice-intake")
    assert rejected.statut is FlowStatus.IN_REJETE and rejected.factures == ()
    [error] = rejected.listeErreurDP
    assert (error.code, error.identifiantDestinataire) == ("RECIPIENT_UNKNOWN", "20007104100046")
    assert [e["event_type"] for e in rejected.events][-1] == "flow.status_changed"
    last = Envelope.parse_incoming(rejected.events[-1]["value"])
    assert last.payload["erreurs"][0]["level"] == "FACTURE"


def test_an_incident_can_be_re_run_as_a_new_attempt():
    failed = incident(received(), "worker died", started=NOW, finished=NOW)
    assert failed.statut is FlowStatus.IN_INCIDENTE
    assert failed.listeErreurTechnique[0].code == "INCIDENT_TECHNIQUE"
    again = waiting_again(failed, at=NOW, owner="1")
    assert again.statut is FlowStatus.IN_EN_ATTENTE_TRAITEMENT and again.tentative == 2
    assert [s.statut for s in again.historique][-2:] == [FlowStatus.IN_INCIDENTE,
                                                         FlowStatus.IN_EN_ATTENTE_TRAITEMENT]
    event = Envelope.parse_incoming(with_events(again, 1, producer="x").events[-1]["value"])
    assert event.payload["statutPrecedent"] == "IN_INCIDENTE"
    assert event.payload["tentative"] == 2


def test_event_ids_are_name_based_uuids_distinct_for_each_step_and_invoice():
    assert event_id_for("FLX1/etape/0") == str(uuid.uuid5(EVENT_ID_NAMESPACE, "FLX1/etape/0"))
    assert uuid.UUID(event_id_for("x")).version == 5
    assert uuid.UUID(event_id_for("x")).variant == uuid.RFC_4122
    done = with_events(conclude(received(), _accepted(), started=NOW, finished=NOW,
                                invoice_id="FAC1", duplicate_key="k"), 4,
                       producer="invoice-intake")
    ids = [e["event_id"] for e in done.events]
    assert len(ids) == 6 and len(set(ids)) == 6
    other = with_events(received("FLX20240614-01J0000000000000000000000001"), 2, producer="p")
    assert not set(ids) & {e["event_id"] for e in other.events}
    # an operator's re-run announces new steps: new ids, never those of the first attempt
    failed = with_events(incident(received(), "x", started=NOW, finished=NOW), 2, producer="p")
    again = with_events(waiting_again(failed, at=NOW, owner="1"), 1, producer="p")
    assert again.events[0]["event_id"] not in {e["event_id"] for e in failed.events}


def test_a_portal_flow_names_its_depositor_in_its_cr_row_and_events():
    flow = with_events(received().model_copy(update={
        "canal": "PORTAIL", "technicalAccountId": "", "deposant": "u-42", "events": ()}),
        2, producer="invoice-intake")
    assert flow.compte_rendu()["canal"] == "PORTAIL"
    assert flow.compte_rendu()["deposant"] == "u-42"
    assert flow.summary()["deposant"] == "u-42" and flow.summary()["technicalAccountId"] == ""
    assert Flow.from_document(flow.to_document()).deposant == "u-42"
    payloads = [Envelope.model_validate_json(e["value"]).payload for e in flow.events]
    assert {p["canal"] for p in payloads} == {"PORTAIL"}
    assert received().compte_rendu()["deposant"] is None  # EDI and API flows: nobody


def test_a_verdict_told_of_a_duplicate_is_what_judging_a_duplicate_says():
    raw = samples.make_invoice("IN_DP_E1_UBL_INVOICE", buyer_siret="20007104100046",
                               supplier_siret="73282932000074", number="FA-1",
                               issue_date=date(2024, 6, 3), service_code="COMPTA")
    analysis = analyse(raw)
    for partner in ("73282932000074", "11111111111111"):  # accepted, then SUPPLIER_NOT_PARTNER
        kwargs = {"partner": partner, "recipient": None, "partner_is_public": False,
                  "today": date(2024, 6, 14)}
        told = judge(analysis, **kwargs).duplicate()
        assert told == judge(analysis, **kwargs, is_duplicate=True)
        assert "DUPLICATE_INVOICE" in [e.code for e in told.errors] and not told.accepted
