import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar

import pytest
from pydantic import ValidationError

from chorale_contracts import Envelope, Topic, decode_payload, dlq_topic, new_envelope, topic_name
from chorale_contracts.events.structures import StructureCreated
from chorale_contracts.registry import (
    EventPayload,
    Registry,
    UnknownEventType,
    UnsupportedSchemaVersion,
    upcast,
)


def _created() -> StructureCreated:
    return StructureCreated(
        identifiant="35600000000048",
        typeIdentifiant="SIRET",
        typeStructure="PRIVEE",
        raisonSociale="La Poste",
        createdBy="u-1",
    )


def test_envelope_round_trip_keeps_every_field():
    env = new_envelope(_created(), key="35600000000048", producer="structures",
                       correlation_id="corr-1")
    back = Envelope.parse_incoming(env.to_bytes())
    assert back == env
    assert back.event_type == "structure.created"
    assert back.schema_version == 1
    assert back.occurred_at.tzinfo is not None
    assert back.payload["raisonSociale"] == "La Poste"


def test_correlation_defaults_to_the_event_id():
    env = new_envelope(_created(), key="k", producer="structures")
    assert env.correlation_id == str(env.event_id)


def test_occurred_at_is_normalised_to_utc():
    paris = timezone(timedelta(hours=1))
    env = new_envelope(_created(), key="k", producer="p",
                       occurred_at=datetime(2026, 1, 1, 12, tzinfo=paris))
    assert env.occurred_at == datetime(2026, 1, 1, 11, tzinfo=UTC)
    assert env.occurred_at.utcoffset() == timedelta(0)


def test_producer_side_refuses_unknown_fields():
    with pytest.raises(ValidationError):
        StructureCreated(identifiant="1", typeIdentifiant="SIRET", typeStructure="PRIVEE",
                         raisonSociale="x", raisonSocial_typo="y")
    with pytest.raises(ValidationError):
        Envelope(event_id=uuid.uuid4(), event_type="a.b", schema_version=1,
                 occurred_at=datetime.now(UTC), producer="p", key="k", correlation_id="c",
                 payload={}, surprise=True)


def test_consumer_side_ignores_unknown_fields():
    env = new_envelope(_created(), key="k", producer="p").model_dump(mode="json")
    env["added_later"] = 1
    env["payload"]["nouveauChamp"] = "x"
    parsed = Envelope.parse_incoming(env)
    payload = decode_payload(parsed.event_type, parsed.schema_version, parsed.payload)
    assert isinstance(payload, StructureCreated)
    assert payload.raisonSociale == "La Poste"


def test_naive_timestamps_are_refused():
    with pytest.raises(ValidationError):
        Envelope(event_id=uuid.uuid4(), event_type="a.b", schema_version=1,
                 occurred_at=datetime(2026, 1, 1), producer="p", key="k", correlation_id="c",
                 payload={})


def test_unknown_event_type_is_reported():
    with pytest.raises(UnknownEventType):
        decode_payload("nothing.here", 1, {})


class _Renamed(EventPayload):
    event_type = "test.renamed"
    schema_version = 3
    topic = Topic.STRUCTURES
    upcasters: ClassVar = {
        1: lambda d: {"fullName": d["name"], **{k: v for k, v in d.items() if k != "name"}},
        2: lambda d: {**d, "country": d.get("country", "FR")},
    }
    fullName: str
    country: str


def test_upcasters_chain_old_versions_to_the_current_shape():
    assert upcast(_Renamed, 1, {"name": "Ada"}) == {"fullName": "Ada", "country": "FR"}
    assert upcast(_Renamed, 2, {"fullName": "Ada", "country": "BE"})["country"] == "BE"
    assert upcast(_Renamed, 3, {"fullName": "Ada", "country": "BE"})["country"] == "BE"


def test_a_newer_version_than_known_is_refused():
    with pytest.raises(UnsupportedSchemaVersion):
        upcast(_Renamed, 4, {})


def test_registering_two_classes_under_one_type_fails():
    reg = Registry()
    reg.register(_Renamed)

    class _Other(EventPayload):
        event_type = "test.renamed"
        topic = Topic.FLOWS

    with pytest.raises(ValueError):
        reg.register(_Other)


def test_topic_names_take_the_prefix_and_dlq_suffix():
    assert topic_name(Topic.DIRECTORY, "t1-") == "t1-chorale.directory.v1"
    assert dlq_topic(topic_name(Topic.FLOWS, "x.")) == "x.chorale.flows.v1.dlq"


def test_a_v1_verification_request_loses_its_usable_link():
    """v1 carried the usable link; v2 only a link id, which a v1 event cannot have."""
    payload = decode_payload("user.verification_requested", 1, {
        "userId": "u-1", "purpose": "EMAIL_VERIFICATION", "contactEmail": "a@b.fr",
        "prenom": "Ada", "link": "https://chorale/verify?token=secret",
        "expiresAt": "2026-12-03T16:00:00+00:00",
    })
    assert payload.linkId == "" and "secret" not in payload.model_dump_json()
