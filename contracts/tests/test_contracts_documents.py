from pathlib import Path

from chorale_contracts import REGISTRY
from chorale_contracts.export import asyncapi_document, documents, drift
from chorale_contracts.topics import Topic

CONTRACTS_DIR = Path(__file__).resolve().parents[1]


def test_committed_documents_match_the_code():
    problems = drift(CONTRACTS_DIR)
    assert problems == [], f"run `make contracts` and commit: {problems}"


def test_drift_is_detected(tmp_path):
    assert "asyncapi.json" in drift(tmp_path)


def test_every_event_type_is_past_tense_and_on_a_known_topic():
    assert len(REGISTRY.by_type) >= 30
    for event_type, cls in REGISTRY.by_type.items():
        assert cls.topic in set(Topic), event_type
        assert event_type.split(".")[0], event_type
    assert "structure.created" in REGISTRY.by_type


def test_asyncapi_lists_every_topic_and_message():
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == {str(t) for t in Topic}
    listed = {m["name"] for m in doc["components"]["messages"].values()}
    assert listed == set(REGISTRY.by_type)
    directory = doc["channels"]["chorale.directory.v1"]
    assert directory["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]
    assert set(documents()) >= {"asyncapi.json", "schemas/envelope.json"}
