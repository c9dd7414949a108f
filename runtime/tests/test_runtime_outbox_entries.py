import json

from chorale_contracts import new_envelope
from chorale_contracts.events.structures import StructureCreated
from chorale_runtime.outbox import new_document, outbox_entry, with_events


def _env():
    return new_envelope(
        StructureCreated(identifiant="1", typeIdentifiant="SIRET", typeStructure="PRIVEE",
                         raisonSociale="ACME"),
        key="1", producer="structures",
    )


def test_an_entry_names_its_logical_topic_and_carries_the_whole_envelope():
    env = _env()
    entry = outbox_entry(env)
    assert entry["topic"] == "chorale.structures.v1"
    assert entry["event_id"] == str(env.event_id)
    assert json.loads(entry["value"])["payload"]["raisonSociale"] == "ACME"


def test_events_join_the_state_change_in_one_update():
    env = _env()
    update = with_events({"$set": {"x": 1}, "$inc": {"version": 1}}, [env])
    assert update["$set"] == {"x": 1}
    assert update["$push"]["outbox"]["$each"][0]["event_id"] == str(env.event_id)
    assert with_events({"$set": {"x": 1}}, []) == {"$set": {"x": 1}}


def test_a_new_document_carries_its_creation_events():
    doc = new_document({"_id": "1"}, [_env(), _env()])
    assert len(doc["outbox"]) == 2


def test_an_entry_becomes_the_kafka_message_that_relays_it():
    from chorale_runtime.publishing import outgoing_message

    env = _env()
    message = outgoing_message(outbox_entry(env), "t1.")
    assert message.topic == "t1.chorale.structures.v1"
    assert message.key == b"1"
    assert json.loads(message.value)["event_id"] == str(env.event_id)
    assert dict(message.headers) == {
        "event_id": str(env.event_id).encode(),
        "event_type": b"structure.created",
        "correlation_id": env.correlation_id.encode(),
    }


def test_an_envelope_published_without_storing_it_is_the_message_its_entry_makes():
    from chorale_runtime.publishing import envelope_message, outgoing_message

    env = _env()
    stored = outbox_entry(env)
    direct = envelope_message(env, "t1.")
    assert direct == outgoing_message(stored, "t1.")
    # entries that carry their headers (the intake's) need not be parsed: same message
    carried = {**stored, "event_type": env.event_type, "correlation_id": env.correlation_id}
    assert outgoing_message(carried, "t1.") == direct
