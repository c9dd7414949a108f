"""The grant writer: one read for many grants, re-read and retry when a concurrent change wins,
a conflict after too many lost races; with an in-memory store."""

import pytest

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain import policies
from chorale_habilitations.domain.errors import HabilitationError
from chorale_habilitations.domain.grants import GrantKey, give
from chorale_habilitations.service_layer.writer import Cause, GrantWriter

CAUSE = Cause("corr-1", "evt-1")


class Store:
    def __init__(self, lose: int = 0):
        self.states = {}
        self.events = []
        self.reads = 0
        self.lose = lose  # saves that find the grant changed meanwhile

    async def get(self, grant_id):
        self.reads += 1
        return self.states.get(grant_id)

    async def get_many(self, grant_ids):
        self.reads += 1
        return {i: self.states[i] for i in grant_ids if i in self.states}

    async def save(self, change, envelope):
        if self.lose:
            self.lose -= 1
            return False
        self.states[change.after.grant_id] = change.after
        self.events.append(envelope)
        return True


async def test_defaults_for_twelve_applications_cost_one_read_and_carry_the_cause():
    store = Store()
    writer = GrantWriter(store, "habilitations")
    keys = policies.every_application("alice", "S1", None)
    changes = await writer.apply_each(keys, lambda k: policies.default_profile(k, "gp"), CAUSE)
    assert len(changes) == 12 and store.reads == 1
    assert {e.event_type for e in store.events} == {"habilitation.granted"}
    assert {(e.key, e.correlation_id, e.causation_id) for e in store.events} == {
        ("alice", "corr-1", "evt-1")}
    again = await writer.apply_each(keys, lambda k: policies.default_profile(k, "gp"), CAUSE)
    assert again == [] and len(store.events) == 12  # a replay changes nothing


async def test_a_lost_race_is_retried_on_fresh_state_then_reported_as_a_conflict():
    key = GrantKey("alice", "S1", None, Application.ENGAGEMENTS)
    store = Store(lose=2)
    writer = GrantWriter(store, "habilitations", attempts=3)
    change = await writer.apply(
        key, lambda cur: give(cur, key, Mode.MODIFICATION, "MANUAL", "gp"), CAUSE)
    assert change.after.version == 1 and store.reads == 3
    store.lose = 5
    with pytest.raises(HabilitationError) as info:
        await writer.apply(key, lambda cur: give(cur, key, Mode.CONSULTATION, "MANUAL", "gp"),
                           CAUSE)
    assert info.value.code == "HABILITATION_CONFLICT"
