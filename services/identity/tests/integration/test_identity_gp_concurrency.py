"""Exactly one gestionnaire principal per structure under concurrent designations and
transfers, settled by the real database (insert on the structure's ``_id``, then
compare-and-set on ``version``)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from chorale_identity.domain.rattachements import attach_directly
from chorale_testkit.identity_accounts import active_account

pytestmark = pytest.mark.integration

N = 20


async def active_accounts(identity, n: int) -> list[str]:
    """Accounts straight into the repository: the HTTP journey is tested elsewhere."""
    emails = [f"gp-{uuid.uuid4().hex[:10]}@exemple.fr" for _ in range(n)]
    return [(await active_account(identity.ctx, e, "Correct-Horse-42!")).id for e in emails]


async def attach_all(identity, user_ids: list[str], siret: str) -> None:
    ctx = identity.ctx
    for user_id in user_ids:
        r = attach_directly(
            user_id=user_id,
            identifiant_structure=siret,
            attached_by="test",
            now=ctx.now(),
            existing=(),
        ).state
        await ctx.rattachements.add(r, [])


async def gp_documents(identity, siret: str) -> list[dict]:
    return await identity.ctx.gestionnaires.store.col.find({"_id": siret}).to_list(None)


async def test_concurrent_designations_leave_exactly_one_gp(identity):
    siret = await identity.structure(type_structure="PUBLIQUE")
    candidates = await active_accounts(identity, N)
    url = f"{identity.base}/v1/structures/{siret}/gestionnaire-principal"

    responses = await asyncio.gather(
        *(
            identity.http.put(url, json={"userId": user_id}, headers=identity.operator())
            for user_id in candidates
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (N - 1), [r.text for r in responses if r.status_code >= 500]
    winner = next(r.json()["userId"] for r in responses if r.status_code == 200)
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {
        "GP_ALREADY_DESIGNATED"
    }

    docs = await gp_documents(identity, siret)
    assert [(d["userId"], d["version"]) for d in docs] == [(winner, 1)]
    designated = await identity.mailbox.wait_for(
        lambda e: e.event_type == "gestionnaire.designated" and e.key == siret
    )
    await asyncio.sleep(1.5)  # more than one relay round: nothing else may follow
    assert [
        e.payload["userId"]
        for e in identity.mailbox.events
        if e.event_type == "gestionnaire.designated" and e.key == siret
    ] == [winner]
    assert designated[0].payload["designatedBy"] == "operator-1"


async def test_concurrent_replacements_and_transfers_keep_one_gp(identity):
    siret = await identity.structure(type_structure="PUBLIQUE")
    candidates = await active_accounts(identity, N)
    await attach_all(identity, candidates, siret)
    url = f"{identity.base}/v1/structures/{siret}/gestionnaire-principal"

    # Operators replacing the GP at the same time: each change applies to the latest state.
    replaced = await asyncio.gather(
        *(
            identity.http.put(
                url, json={"userId": user_id, "replace": True}, headers=identity.operator(f"op-{i}")
            )
            for i, user_id in enumerate(candidates)
        )
    )
    changed = [r for r in replaced if r.status_code == 200]
    # A request that keeps losing the race is told to try again, never half applied.
    assert {r.json()["code"] for r in replaced if r.status_code != 200} <= {"CONCURRENT_UPDATE"}
    assert len(changed) >= N // 2, [r.text for r in replaced]
    [doc] = await gp_documents(identity, siret)
    assert doc["version"] == len(changed)  # every applied change counted once, none lost

    # The GP hands the role to N people at once: exactly one transfer wins.
    gp = doc["userId"]
    token = identity.tokens.headers(gp)
    targets = [c for c in candidates if c != gp]
    transfers = await asyncio.gather(
        *(
            identity.http.post(f"{url}/transfer", json={"toUserId": target}, headers=token)
            for target in targets
        )
    )
    ok = [r for r in transfers if r.status_code == 200]
    assert len(ok) == 1, [r.text for r in transfers]
    assert {r.json()["code"] for r in transfers if r.status_code != 200} == {
        "NOT_GESTIONNAIRE_PRINCIPAL"
    }
    [after] = await gp_documents(identity, siret)
    assert after["userId"] == ok[0].json()["userId"] and after["version"] == doc["version"] + 1
    await identity.mailbox.wait_for(
        lambda e: e.event_type == "gestionnaire.transferred" and e.key == siret
    )
    await asyncio.sleep(1.5)
    transferred = [
        e
        for e in identity.mailbox.events
        if e.event_type == "gestionnaire.transferred" and e.key == siret
    ]
    assert [e.payload["toUserId"] for e in transferred] == [after["userId"]]
