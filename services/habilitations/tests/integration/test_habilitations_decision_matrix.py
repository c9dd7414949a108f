"""The decision matrix through the real HTTP API: roles × operations × scope (own structure at
structure level, one of its services, another of its services, another structure), with the
state set up by identity's events on the real broker.

Roles on structure S1 (services SVC_A, SVC_B): its gestionnaire principal; a holder of
« Organisation » in modification; a simple user (defaults: « Organisation » in consultation);
a holder of « Organisation » in modification on SVC_A only; a user attached nowhere; an
operator; a technical account of S1. S2 is another structure with its own GP.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from chorale_contracts.events.common import Application

pytestmark = pytest.mark.integration

ROLES = ("gp", "orgmod", "consult", "svcadmin", "unattached", "operator", "technical")
OPERATIONS = ("list", "add", "change", "remove", "decide")
SCOPES = ("structure", "service", "other-service", "other-structure")
MUTATIONS = ("add", "change", "remove")
OWN = {"structure", "service", "other-service"}
ALLOWED: dict[str, dict[str, set[str]]] = {
    "gp": {op: OWN for op in OPERATIONS},
    "orgmod": {op: OWN for op in OPERATIONS},
    "consult": {"list": OWN, "decide": OWN},
    "svcadmin": {op: {"service"} for op in OPERATIONS},
    "unattached": {},
    "operator": {op: set(SCOPES) for op in OPERATIONS},
    "technical": {},
}
CASES = list(itertools.product(ROLES, OPERATIONS, SCOPES))


def allowed(role: str, op: str, scope: str) -> bool:
    return scope in ALLOWED[role].get(op, set())


@dataclass
class World:
    habil: object
    s1: str
    s2: str
    users: dict[str, str]
    targets: dict[tuple, str] = field(default_factory=dict)

    def where(self, scope: str) -> tuple[str, str | None]:
        return {"structure": (self.s1, None), "service": (self.s1, "SVC_A"),
                "other-service": (self.s1, "SVC_B"), "other-structure": (self.s2, None)}[scope]

    def headers(self, role: str) -> dict[str, str]:
        h = self.habil
        if role == "operator":
            return h.tokens.operator()
        if role == "technical":
            return h.tokens.technical("ta-1", self.s1)
        return h.as_user(self.users[role])

    def target(self, role: str, op: str, scope: str) -> str:
        """Mutations that should succeed get a target of their own; the others share one."""
        mine = (role, op, scope) if op in MUTATIONS and allowed(role, op, scope) else (op, scope)
        return self.targets[mine]


@pytest_asyncio.fixture(scope="module")
async def world(habil_shared) -> World:
    h = habil_shared
    s1, s2 = h.new_structure(), h.new_structure()
    users = {role: h.new_user(role) for role in ("gp", "orgmod", "consult", "svcadmin",
                                                  "unattached", "gp2")}
    w = World(h, s1, s2, users)
    await h.designate(s1, users["gp"])
    await h.designate(s2, users["gp2"])
    await h.attach(users["gp"], s1)
    await h.attach(users["gp2"], s2)
    await h.attach(users["orgmod"], s1)
    await h.attach(users["consult"], s1)
    await h.attach(users["svcadmin"], s1, "SVC_A")
    for key in [*{(op, scope) for op, scope in itertools.product(OPERATIONS, SCOPES)},
                *[(r, op, sc) for r, op, sc in CASES if op in MUTATIONS and allowed(r, op, sc)]]:
        w.targets[key] = h.new_user("t")
        await h.attach(w.targets[key], *w.where(key[-1]))
    # Generous waits: ~650 events go through one consumer on a shared, loaded machine.
    for user in [*w.targets.values(), users["orgmod"], users["svcadmin"]]:
        await h.wait_grants(user, len(Application), timeout=180)
    await h.wait_decision(True, users["gp"], s1, "ORGANISATION", "MODIFICATION", timeout=180)
    await h.wait_decision(True, users["gp2"], s2, "ORGANISATION", "MODIFICATION", timeout=180)
    # The GP gives « Organisation » in modification: on S1, and on SVC_A only.
    for role in ("orgmod", "svcadmin"):
        org = (await h.grants(users[role], application="ORGANISATION"))[0]
        r = await h.http.patch(f"{h.base}/v1/habilitations/{org['grantId']}",
                               json={"mode": "MODIFICATION"}, headers=h.as_user(users["gp"]))
        assert r.status_code == 200, r.text
    await h.wait_decision(True, users["orgmod"], s1, "ORGANISATION", "MODIFICATION",
                          timeout=180)
    await h.wait_decision(True, users["svcadmin"], s1, "ORGANISATION", "MODIFICATION", "SVC_A",
                          timeout=180)
    # Targets of additions start without grants at their level.
    for key, user in w.targets.items():
        if key[-2] == "add":
            structure, service = w.where(key[-1])
            gp = users["gp"] if structure == s1 else users["gp2"]
            r = await h.http.delete(
                f"{h.base}/v1/structures/{structure}/users/{user}/habilitations",
                params={"codeService": service} if service else None, headers=h.as_user(gp))
            assert r.status_code == 200 and r.json()["revoked"] == len(Application), r.text
    return w


async def perform(w: World, role: str, op: str, scope: str):
    h, (structure, service) = w.habil, w.where(scope)
    target, headers = w.target(role, op, scope), w.headers(role)
    if op == "list":
        return await h.http.get(f"{h.base}/v1/structures/{structure}/habilitations",
                                params={"codeService": service} if service else None,
                                headers=headers)
    if op == "add":
        return await h.http.post(f"{h.base}/v1/structures/{structure}/habilitations", json={
            "userId": target, "application": "ENGAGEMENTS", "mode": "CONSULTATION",
            "codeService": service}, headers=headers)
    if op == "decide":
        params = {"userId": target, "structure": structure, "application": "FACTURES_RECUES",
                  "mode": "CONSULTATION", **({"codeService": service} if service else {})}
        return await h.http.get(f"{h.base}/v1/decisions", params=params, headers=headers)
    grant = (await h.grants(target, application="FACTURES_RECUES"))[0]
    url = f"{h.base}/v1/habilitations/{grant['grantId']}"
    if op == "change":
        return await h.http.patch(url, json={"mode": "MODIFICATION"}, headers=headers)
    return await h.http.delete(url, headers=headers)


@pytest.mark.parametrize(("role", "op", "scope"), CASES, ids=["-".join(c) for c in CASES])
async def test_decision_matrix(world: World, role: str, op: str, scope: str):
    response = await perform(world, role, op, scope)
    body = response.json()
    if not allowed(role, op, scope):
        assert (response.status_code, body["code"]) == (403, "FORBIDDEN"), body
        return
    assert response.status_code in (200, 201), body
    structure, service = world.where(scope)
    if op == "list":
        assert body["habilitations"], "an administrator sees the users' grants"
        assert {(g["structure"], g["codeService"]) for g in body["habilitations"]} <= {
            (structure, service)} | ({(structure, None), (structure, "SVC_A"),
                                      (structure, "SVC_B")} if service is None else set())
    elif op == "decide":
        assert body["allowed"] is True and body["reason"] == "GRANT_CONSULTATION", body
    elif op == "remove":
        assert body["active"] is False and body["reason"] == "MANUAL"
    else:
        assert body["active"] is True and (body["structure"], body["codeService"]) == (
            structure, service)
        assert body["mode"] == ("MODIFICATION" if op == "change" else "CONSULTATION")


def test_the_matrix_has_both_outcomes_for_every_structure_role():
    for role in ROLES:
        outcomes = {allowed(role, op, sc) for op, sc in itertools.product(OPERATIONS, SCOPES)}
        expected = {False} if role in ("unattached", "technical") else (
            {True} if role == "operator" else {True, False})
        assert outcomes == expected, role
