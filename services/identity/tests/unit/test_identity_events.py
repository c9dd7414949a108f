from chorale_contracts.events import identity as identity_events  # noqa: F401 (registers)
from chorale_contracts.registry import REGISTRY
from chorale_contracts.topics import Topic
from chorale_identity.domain import events


def test_every_domain_event_is_an_identity_contract_event():
    contract_types = {c.event_type for c in REGISTRY.for_topic(Topic.IDENTITY)}
    assert set(events.ALL) <= contract_types
    assert set(events.ALL) == contract_types, "a contract event the domain never produces"
