"""On the real broker and database: the gestionnaire principal's grants follow the role, a
deactivated account loses everything, service-level rattachements, the listings and their CSV,
and the administration rules through HTTP."""

from __future__ import annotations

import asyncio

import pytest

from chorale_contracts import Topic, topic_name
from chorale_contracts.events import identity
from chorale_contracts.events.common import Application
from chorale_runtime.testing.kafka_probe import collect

pytestmark = pytest.mark.integration
APPS = len(Application)


def by_app(rows):
    return {r["application"]: (r["mode"], r["reason"]) for r in rows}


async def test_the_gp_grants_follow_the_role_whatever_the_order_of_events(habil):
    s, a, b = habil.new_structure(), habil.new_user("gpa"), habil.new_user("gpb")
    await habil.designate(s, a)        # may be consumed before A's rattachement
    await habil.attach(a, s)
    rows = await habil.wait_grants(a, APPS, mode="MODIFICATION")
    assert set(by_app(rows).values()) == {("MODIFICATION", "GESTIONNAIRE_PRINCIPAL")}
    assert len(await habil.grants(a)) == APPS  # never lowered by the later default

    await habil.attach(b, s)
    await habil.wait_grants(b, APPS)
    # Before the transfer, the GP gives B « Factures reçues » in modification by hand.
    await habil.wait_decision(True, a, s, "ORGANISATION", "MODIFICATION")
    fr = next(r for r in await habil.grants(b) if r["application"] == "FACTURES_RECUES")
    r = await habil.http.patch(f"{habil.base}/v1/habilitations/{fr['grantId']}",
                               json={"mode": "MODIFICATION"}, headers=habil.as_user(a))
    assert r.status_code == 200, r.text
    assert (r.json()["mode"], r.json()["reason"], r.json()["version"]) == (
        "MODIFICATION", "MANUAL", 2)

    await habil.publish(identity.GestionnaireTransferred(structure=s, fromUserId=a,
                                                         toUserId=b))
    rows_b = await habil.wait_grants(b, APPS, mode="MODIFICATION")
    assert by_app(rows_b)["FACTURES_RECUES"] == ("MODIFICATION", "MANUAL")
    assert by_app(rows_b)["ENGAGEMENTS"] == ("MODIFICATION", "GESTIONNAIRE_PRINCIPAL")
    rows_a = await habil.wait_grants(a, APPS, mode="CONSULTATION")
    assert set(by_app(rows_a).values()) == {("CONSULTATION", "DEFAULT")}
    await habil.wait_decision(False, a, s, "ORGANISATION", "MODIFICATION")
    assert (await habil.wait_decision(True, b, s, "ORGANISATION", "MODIFICATION"))[
        "reason"] == "GESTIONNAIRE_PRINCIPAL"


async def test_a_deactivated_account_loses_every_grant_and_gets_no_new_default(habil):
    s1, s2, user = habil.new_structure(), habil.new_structure(), habil.new_user()
    await habil.attach(user, s1)
    await habil.attach(user, s2, "SVC")
    await habil.wait_grants(user, 2 * APPS)
    await habil.publish(identity.UserDeactivated(userId=user))
    await habil.wait_grants(user, 0)
    await habil.attach(user, habil.new_structure())  # a late approval
    await asyncio.sleep(1.0)
    assert await habil.grants(user) == []
    assert (await habil.decide(user, s1, "MES_MESSAGES", "CONSULTATION"))["reason"] == \
        "USER_DEACTIVATED"


async def test_service_rattachements_and_what_a_structure_detachment_leaves(habil):
    s, user = habil.new_structure(), habil.new_user()
    await habil.attach(user, s, "SVC_A")
    await habil.attach(user, s)
    await habil.wait_grants(user, 2 * APPS)
    assert {r["codeService"] for r in await habil.grants(user, codeService="SVC_A")} == {"SVC_A"}
    # SVC_B through the structure-level grant
    await habil.wait_decision(True, user, s, "FACTURES_RECUES", "CONSULTATION", "SVC_B")
    await habil.detach(user, s)
    rows = await habil.wait_grants(user, APPS)
    assert {(r["structure"], r["codeService"]) for r in rows} == {(s, "SVC_A")}
    d = await habil.wait_decision(False, user, s, "FACTURES_RECUES", "CONSULTATION", "SVC_B")
    assert d["reason"] == "OTHER_SERVICE"
    assert (await habil.decide(user, s, "FACTURES_RECUES", "CONSULTATION", "SVC_A"))["allowed"]


async def test_listings_filters_and_csv_export(habil):
    user = habil.new_user()
    s, gp = await habil.structure_with_gp(user)
    mine = await habil.grants(user, application="SUIVI_DES_FLUX", mode="CONSULTATION")
    assert [(r["profil"], r["structure"]) for r in mine] == [("Suivi des flux consultation", s)]
    assert await habil.grants(user, structure="OTHER") == []
    r = await habil.http.get(f"{habil.base}/v1/me/habilitations", params={"format": "csv"},
                             headers=habil.as_user(user))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Structure;Raison sociale;Code service;Libellé service;Utilisateur;Profil"
    assert len(lines) == 1 + APPS and lines[1].startswith(f"{s};;;;{user};Engagements ")
    r = await habil.http.get(f"{habil.base}/v1/structures/{s}/habilitations",
                             params={"userId": user}, headers=habil.as_user(gp))
    assert r.status_code == 200 and len(r.json()["habilitations"]) == APPS
    r = await habil.http.get(f"{habil.base}/v1/structures/{s}/habilitations",
                             headers=habil.as_user(gp))
    assert {x["userId"] for x in r.json()["habilitations"]} == {gp, user}
    r = await habil.http.get(f"{habil.base}/v1/applications")
    assert len(r.json()) == APPS


async def test_administration_rules_through_http(habil):
    admin, user, stranger = habil.new_user("adm"), habil.new_user(), habil.new_user("x")
    s, gp = await habil.structure_with_gp(admin, user)
    url = f"{habil.base}/v1/structures/{s}/habilitations"
    org = next(r for r in await habil.grants(admin) if r["application"] == "ORGANISATION")
    r = await habil.http.patch(f"{habil.base}/v1/habilitations/{org['grantId']}",
                               json={"mode": "MODIFICATION"}, headers=habil.as_user(gp))
    assert r.status_code == 200, r.text
    await habil.wait_decision(True, admin, s, "ORGANISATION", "MODIFICATION")

    async def call(method, path, who, **kw):
        return await habil.http.request(method, path, headers=habil.as_user(who), **kw)

    own = next(r for r in await habil.grants(admin) if r["application"] == "ENGAGEMENTS")
    r = await call("PATCH", f"{habil.base}/v1/habilitations/{own['grantId']}", admin,
                   json={"mode": "MODIFICATION"})
    assert (r.status_code, r.json()["code"]) == (403, "SELF_ELEVATION_FORBIDDEN")
    gp_grant = (await habil.wait_grants(gp, APPS, mode="MODIFICATION"))[0]
    r = await call("PATCH", f"{habil.base}/v1/habilitations/{gp_grant['grantId']}", admin,
                   json={"mode": "CONSULTATION"})
    assert (r.status_code, r.json()["code"]) == (409, "GESTIONNAIRE_PRINCIPAL_PROTECTED")
    r = await call("POST", url, admin, json={"userId": stranger, "application": "ENGAGEMENTS",
                                             "mode": "CONSULTATION"})
    assert (r.status_code, r.json()["code"]) == (409, "USER_NOT_ATTACHED")
    r = await call("POST", url, admin, json={"userId": user, "application": "ENGAGEMENTS",
                                             "mode": "MODIFICATION"})
    assert (r.status_code, r.json()["code"]) == (409, "HABILITATION_EXISTS")
    target = next(r for r in await habil.grants(user) if r["application"] == "ENGAGEMENTS")
    r = await call("PATCH", f"{habil.base}/v1/habilitations/{target['grantId']}", admin,
                   json={"mode": "MODIFICATION", "version": 99})
    assert (r.status_code, r.json()["code"]) == (409, "HABILITATION_CONFLICT")
    r = await call("DELETE", f"{habil.base}/v1/habilitations/nope", admin)
    assert (r.status_code, r.json()["code"]) == (404, "HABILITATION_NOT_FOUND")
    r = await call("DELETE", f"{habil.base}/v1/structures/{s}/users/{gp}/habilitations", admin)
    assert (r.status_code, r.json()["code"]) == (409, "GESTIONNAIRE_PRINCIPAL_PROTECTED")
    r = await call("DELETE", f"{habil.base}/v1/structures/{s}/users/{user}/habilitations", admin)
    assert r.status_code == 200 and r.json()["revoked"] == APPS
    assert await habil.grants(user) == []


async def test_two_concurrent_additions_of_one_profile_make_one_grant(habil):
    user = habil.new_user()
    s, gp = await habil.structure_with_gp(user)
    body = {"userId": user, "application": "FRAIS_DE_JUSTICE", "mode": "MODIFICATION"}
    responses = await asyncio.gather(*[
        habil.http.post(f"{habil.base}/v1/structures/{s}/habilitations",
                        json={**body, "codeService": "SVC"}, headers=habil.as_user(gp))
        for _ in range(6)
    ])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, \
        [r.text for r in responses]
    created = next(r.json() for r in responses if r.status_code == 201)
    topic = topic_name(Topic.HABILITATIONS, habil.namespace.topic_prefix)
    events = await collect(habil.infra.kafka_bootstrap, topic, until=lambda evs: any(
        e.payload["grantId"] == created["grantId"] for e in evs))
    await asyncio.sleep(0.5)
    events = await collect(habil.infra.kafka_bootstrap, topic, until=lambda evs: len(evs) >= len(
        events))
    assert [e.event_type for e in events if e.payload["grantId"] == created["grantId"]] == [
        "habilitation.granted"]
