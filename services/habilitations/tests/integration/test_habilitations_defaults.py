"""On the real broker: identity's events give and take the default grants, visible in the API
and published as `habilitation.*` events on `chorale.habilitations.v1`."""

from __future__ import annotations

import pytest

from chorale_contracts import Topic, topic_name
from chorale_contracts.events.common import Application
from chorale_runtime.testing.kafka_probe import collect

pytestmark = pytest.mark.integration
APPS = len(Application)


def _of(events, user, event_type):
    return [e for e in events if e.key == user and e.event_type == event_type]


async def test_an_approved_rattachement_yields_consultation_everywhere_then_detachment_revokes(
    habil,
):
    s, user = habil.new_structure(), habil.new_user()
    await habil.attach(user, s)
    rows = await habil.wait_grants(user, APPS)
    assert {r["mode"] for r in rows} == {"CONSULTATION"}
    assert {r["application"] for r in rows} == {a.value for a in Application}
    assert {(r["structure"], r["codeService"], r["reason"]) for r in rows} == {(s, None, "DEFAULT")}
    topic = topic_name(Topic.HABILITATIONS, habil.namespace.topic_prefix)
    events = await collect(habil.infra.kafka_bootstrap, topic,
                           until=lambda evs: len(_of(evs, user, "habilitation.granted")) >= APPS)
    granted = _of(events, user, "habilitation.granted")
    assert len(granted) == APPS
    assert {e.payload["grantId"] for e in granted} == {r["grantId"] for r in rows}
    assert all(e.payload["version"] == 1 and e.payload["reason"] == "DEFAULT" for e in granted)
    assert all(e.causation_id for e in granted)

    await habil.detach(user, s)
    await habil.wait_grants(user, 0)
    events = await collect(habil.infra.kafka_bootstrap, topic,
                           until=lambda evs: len(_of(evs, user, "habilitation.revoked")) >= APPS)
    revoked = _of(events, user, "habilitation.revoked")
    assert {e.payload["grantId"] for e in revoked} == {r["grantId"] for r in rows}
    assert all(e.payload["version"] == 2 and e.payload["reason"] == "RATTACHEMENT_ENDED"
               for e in revoked)
    await habil.wait_decision(False, user, s, "FACTURES_RECUES", "CONSULTATION")
