"""Every event type of ``chorale.identity.v1`` is emitted, through the outbox, at the moment
it describes, keyed by its aggregate, carrying the request's correlation id."""

from __future__ import annotations

import pytest

from chorale_contracts import REGISTRY, Topic
from chorale_contracts.registry import EventPayload
from chorale_identity.domain import events as domain_events

pytestmark = pytest.mark.integration


def strict(event) -> EventPayload:
    """Producers forbid unknown fields: validate as a producer would."""
    return REGISTRY.payload_class(event.event_type).model_validate(event.payload)


async def test_each_identity_event_kind_is_published(identity):
    corr = {"X-Correlation-ID": "corr-identity-events"}
    a = await identity.user()
    await identity.http.patch(
        f"{identity.base}/v1/me", json={"prenom": "Anne"}, headers={**a.headers, **corr}
    )
    siret = await identity.structure(type_structure="PRIVEE", created_by=a.id)
    b, c, d = [await identity.user() for _ in range(3)]

    first = (
        await identity.post("/v1/rattachements", {"structure": siret}, headers=b.headers)
    ).json()["id"]
    refused = await identity.post(
        f"/v1/rattachements/{first}/refuse", {"commentaire": "Non"}, headers=a.headers
    )
    assert refused.status_code == 200, refused.text
    second = (
        await identity.post("/v1/rattachements", {"structure": siret}, headers=b.headers)
    ).json()["id"]
    await identity.post(f"/v1/rattachements/{second}/approve", {}, headers=a.headers)
    await identity.post(f"/v1/rattachements/{second}/detach", headers=b.headers)
    await identity.invite_and_accept(a, siret, c)
    await identity.post(
        f"/v1/structures/{siret}/gestionnaire-principal/transfer",
        {"toUserId": c.id},
        headers=a.headers,
    )
    accounts = f"/v1/structures/{siret}/technical-accounts"
    ta = (await identity.post(accounts, {"label": "EDI"}, headers=c.headers)).json()
    await identity.post(f"{accounts}/{ta['id']}/rotate", headers=c.headers)
    await identity.post(f"{accounts}/{ta['id']}/revoke", headers=c.headers)
    await identity.post(
        "/v1/me/deactivate", {"currentPassword": "Correct-Horse-42!"}, headers=d.headers
    )

    wanted = set(domain_events.ALL)
    assert wanted == {cls.event_type for cls in REGISTRY.for_topic(Topic.IDENTITY)}
    for event_type in sorted(wanted):
        await identity.mailbox.wait_for(lambda e, t=event_type: e.event_type == t, timeout=60)

    for event in identity.mailbox.events:
        payload = strict(event)
        assert event.producer == "identity"
        if event.event_type.startswith("user."):
            assert event.key == payload.userId
        elif event.event_type.startswith("rattachement."):
            assert event.key == payload.rattachementId
        else:
            assert event.key == siret == payload.structure

    kinds = {e.event_type: e for e in identity.mailbox.events if e.key in (first, second)}
    assert kinds["rattachement.refused"].payload["commentaire"] == "Non"
    assert kinds["rattachement.approved"].payload["direct"] is False
    assert kinds["rattachement.detached"].payload["detachedBy"] == b.id
    updated = [e for e in identity.mailbox.events if e.event_type == "user.profile_updated"]
    assert updated[0].correlation_id == "corr-identity-events"
    created = next(
        e for e in identity.mailbox.events if e.event_type == "technical_account.created"
    )
    assert created.payload["clientId"] == ta["clientId"]
    assert ta["clientSecret"] not in created.model_dump_json()
