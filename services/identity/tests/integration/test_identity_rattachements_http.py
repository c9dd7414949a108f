"""Rattachements, Approbations and the gestionnaire principal through the HTTP API, with the
structures known from events published on the real broker."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.integration


async def test_a_private_structure_makes_its_creator_gp_and_attaches_them(identity):
    creator = await identity.user()
    siret = await identity.structure(type_structure="PRIVEE", created_by=creator.id)

    gp = await identity.get(
        f"/v1/structures/{siret}/gestionnaire-principal", headers=creator.headers
    )
    assert gp.status_code == 200, gp.text
    assert gp.json()["userId"] == creator.id and gp.json()["origin"] == "CREATEUR"
    mine = (await identity.get("/v1/me/rattachements", headers=creator.headers)).json()
    assert [
        (r["identifiantStructure"], r["status"], r["raisonSociale"]) for r in mine["rattachements"]
    ] == [(siret, "VALIDEE", f"Raison {siret}")]
    designated = await identity.mailbox.wait_for(
        lambda e: e.event_type == "gestionnaire.designated" and e.key == siret
    )
    assert designated[0].payload["userId"] == creator.id
    assert designated[0].causation_id is not None  # caused by structure.created


async def test_request_approve_refuse_detach_and_approbations(identity):
    gp = await identity.user()
    siret = await identity.structure(
        type_structure="PRIVEE", created_by=gp.id, services=("COMPTA", "ACHATS.NORD")
    )
    alice, bob, mallory = [await identity.user() for _ in range(3)]

    unknown = await identity.post(
        "/v1/rattachements", {"structure": "12345678901234"}, headers=alice.headers
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "STRUCTURE_NOT_FOUND"
    no_service = await identity.post(
        "/v1/rattachements", {"structure": siret, "codeService": "NOPE"}, headers=alice.headers
    )
    assert no_service.status_code == 404 and no_service.json()["code"] == "SERVICE_NOT_FOUND"

    asked = await identity.post(
        "/v1/rattachements",
        {
            "structure": siret,
            "codeService": "ACHATS.NORD",
            "commentaire": '=HYPERLINK("x")',
        },
        headers=alice.headers,
    )
    assert asked.status_code == 201, asked.text
    rid = asked.json()["id"]
    assert asked.json()["status"] == "EN_COURS_DE_VALIDATION"
    twice = await identity.post(
        "/v1/rattachements",
        {"structure": siret, "codeService": "ACHATS.NORD"},
        headers=alice.headers,
    )
    assert twice.status_code == 409 and twice.json()["details"]["rattachementId"] == rid
    refused_req = (
        await identity.post("/v1/rattachements", {"structure": siret}, headers=bob.headers)
    ).json()["id"]

    # Neither the requester nor a stranger decides.
    own = await identity.post(f"/v1/rattachements/{rid}/approve", {}, headers=alice.headers)
    assert own.status_code == 403
    stranger = await identity.post(f"/v1/rattachements/{rid}/approve", {}, headers=mallory.headers)
    assert stranger.status_code == 403
    listing = await identity.get(f"/v1/structures/{siret}/approbations", headers=mallory.headers)
    assert listing.status_code == 403

    rows = (
        await identity.get(
            f"/v1/structures/{siret}/approbations",
            params={"etat": "EN_COURS_DE_VALIDATION"},
            headers=gp.headers,
        )
    ).json()["approbations"]
    assert {r["id"] for r in rows} == {rid, refused_req}
    by_name = (
        await identity.get(
            f"/v1/structures/{siret}/approbations",
            params={"demandeur": alice.email, "service": "ACHATS.NORD"},
            headers=gp.headers,
        )
    ).json()["approbations"]
    assert [r["id"] for r in by_name] == [rid]
    assert by_name[0]["raisonSociale"] == f"Raison {siret}"

    no_reason = await identity.post(
        f"/v1/rattachements/{refused_req}/refuse", {}, headers=gp.headers
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "COMMENT_REQUIRED"
    refused = await identity.post(
        f"/v1/rattachements/{refused_req}/refuse",
        {"commentaire": "Inconnu du service"},
        headers=gp.headers,
    )
    assert refused.json()["status"] == "REFUSEE"
    approved = await identity.post(
        f"/v1/rattachements/{rid}/approve", {"commentaire": "Bienvenue"}, headers=gp.headers
    )
    assert approved.status_code == 200 and approved.json()["status"] == "VALIDEE"
    again = await identity.post(f"/v1/rattachements/{rid}/approve", {}, headers=gp.headers)
    assert again.status_code == 409 and again.json()["code"] == "RATTACHEMENT_ALREADY_DECIDED"

    exported = await identity.get(
        f"/v1/structures/{siret}/approbations", params={"format": "csv"}, headers=gp.headers
    )
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0][0] == "État" and len(table) == 4  # header, gp, alice, bob
    assert all(not cell.startswith("=") for row in table for cell in row)

    # Me détacher; then the GP cannot leave without handing the role over.
    left = await identity.post(f"/v1/rattachements/{rid}/detach", headers=alice.headers)
    assert left.status_code == 200 and left.json()["status"] == "DESACTIVEE"
    gp_link = next(
        r
        for r in (await identity.get("/v1/me/rattachements", headers=gp.headers)).json()[
            "rattachements"
        ]
    )
    stay = await identity.post(f"/v1/rattachements/{gp_link['id']}/detach", headers=gp.headers)
    assert stay.status_code == 409 and stay.json()["code"] == "GP_MUST_TRANSFER_FIRST"

    for event_type in (
        "rattachement.requested",
        "rattachement.approved",
        "rattachement.refused",
        "rattachement.detached",
    ):
        await identity.mailbox.wait_for(lambda e, t=event_type: e.event_type == t)


async def test_gestionnaire_attaches_directly_and_service_holders_stay_in_their_service(identity):
    gp = await identity.user()
    siret = await identity.structure(
        type_structure="PRIVEE", created_by=gp.id, services=("COMPTA", "RH")
    )
    holder, newcomer, other = [await identity.user() for _ in range(3)]

    attached = await identity.invite_and_accept(gp, siret, holder, "COMPTA")
    assert attached["status"] == "VALIDEE" and attached["origin"] == "DIRECT"
    assert attached["decidedBy"] == gp.id

    await identity.grant(holder.id, siret, code_service="COMPTA")
    compta = (
        await identity.post(
            "/v1/rattachements",
            {"structure": siret, "codeService": "COMPTA"},
            headers=newcomer.headers,
        )
    ).json()["id"]
    rh = (
        await identity.post(
            "/v1/rattachements", {"structure": siret, "codeService": "RH"}, headers=other.headers
        )
    ).json()["id"]
    visible = (
        await identity.get(f"/v1/structures/{siret}/approbations", headers=holder.headers)
    ).json()["approbations"]
    assert {r["service"] for r in visible} == {"COMPTA"}
    assert (
        await identity.post(f"/v1/rattachements/{rh}/approve", {}, headers=holder.headers)
    ).status_code == 403
    assert (
        await identity.post(f"/v1/rattachements/{compta}/approve", {}, headers=holder.headers)
    ).status_code == 200
    # A gestionnaire may detach someone else.
    removed = await identity.post(f"/v1/rattachements/{compta}/detach", headers=holder.headers)
    assert removed.status_code == 200 and removed.json()["detachedBy"] == holder.id


async def test_only_the_gp_transfers_the_role(identity):
    gp = await identity.user()
    siret = await identity.structure(type_structure="PRIVEE", created_by=gp.id)
    member, outsider = await identity.user(), await identity.user()
    await identity.invite_and_accept(gp, siret, member)
    await identity.grant(member.id, siret)  # even « Organisation » modification is not enough

    url = f"/v1/structures/{siret}/gestionnaire-principal/transfer"
    by_member = await identity.post(url, {"toUserId": member.id}, headers=member.headers)
    assert by_member.status_code == 403 and by_member.json()["code"] == "NOT_GESTIONNAIRE_PRINCIPAL"
    by_operator = await identity.post(url, {"toUserId": member.id}, headers=identity.operator())
    assert by_operator.status_code == 403
    to_outsider = await identity.post(url, {"toUserId": outsider.id}, headers=gp.headers)
    assert to_outsider.status_code == 409 and to_outsider.json()["code"] == "GP_TARGET_NOT_ATTACHED"

    done = await identity.post(url, {"toUserId": member.id}, headers=gp.headers)
    assert done.status_code == 200 and done.json()["userId"] == member.id
    back = await identity.post(url, {"toUserId": gp.id}, headers=gp.headers)
    assert back.status_code == 403  # no longer the GP
    moved = await identity.mailbox.wait_for(
        lambda e: e.event_type == "gestionnaire.transferred" and e.key == siret
    )
    assert moved[0].payload == {"structure": siret, "fromUserId": gp.id, "toUserId": member.id}


async def test_operator_designates_the_gp_of_a_public_structure(identity):
    siret = await identity.structure(type_structure="PUBLIQUE")
    chosen = await identity.user()
    url = f"/v1/structures/{siret}/gestionnaire-principal"
    found = (
        await identity.get("/v1/users", params={"email": chosen.email}, headers=identity.operator())
    ).json()["utilisateurs"]
    assert [u["id"] for u in found] == [chosen.id]
    assert (
        await identity.get("/v1/users", params={"email": chosen.email}, headers=chosen.headers)
    ).status_code == 403

    by_user = await identity.http.put(
        f"{identity.base}{url}", json={"userId": chosen.id}, headers=chosen.headers
    )
    assert by_user.status_code == 403
    done = await identity.http.put(
        f"{identity.base}{url}", json={"userId": chosen.id}, headers=identity.operator()
    )
    assert done.status_code == 200 and done.json()["origin"] == "OPERATEUR"
    mine = (await identity.get("/v1/me/rattachements", headers=chosen.headers)).json()
    assert [r["status"] for r in mine["rattachements"]] == ["VALIDEE"]

    private = await identity.structure(type_structure="PRIVEE")
    wrong_type = await identity.http.put(
        f"{identity.base}/v1/structures/{private}/gestionnaire-principal",
        json={"userId": chosen.id},
        headers=identity.operator(),
    )
    assert wrong_type.status_code == 409 and wrong_type.json()["code"] == "STRUCTURE_NOT_PUBLIC"


async def test_my_approbations_span_every_structure_i_manage_and_list_its_people(identity):
    gp = await identity.user()
    first = await identity.structure(type_structure="PRIVEE", created_by=gp.id)
    second = await identity.structure(type_structure="PRIVEE", created_by=gp.id)
    elsewhere = await identity.structure(services=("COMPTA", "RH"))
    holder, alice, bob, carol = [await identity.user() for _ in range(4)]
    await identity.grant(gp.id, elsewhere, code_service="COMPTA")  # service-level gestionnaire

    for who, structure, service in ((alice, first, None), (bob, second, None),
                                    (carol, elsewhere, "COMPTA"), (holder, elsewhere, "RH")):
        body = {"structure": structure, "codeService": service, "commentaire": "Merci"}
        asked = await identity.post("/v1/rattachements", body, headers=who.headers)
        assert asked.status_code == 201, asked.text

    async def inbox(**params):
        answer = await identity.get("/v1/me/approbations", params=params, headers=gp.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    everything = await inbox()
    assert {r["structure"] for r in everything["approbations"]} == {first, second, elsewhere}
    assert {r["service"] for r in everything["approbations"] if r["structure"] == elsewhere} == {
        "COMPTA"}  # RH is not the gestionnaire's service
    assert everything["enAttente"] == 3
    scopes = {s["identifiant"]: s for s in everything["structures"]}
    assert scopes[first]["services"] is None and scopes[first]["gestionnairePrincipal"] is True
    assert scopes[elsewhere]["services"] == ["COMPTA"]
    assert not scopes[elsewhere]["gestionnairePrincipal"]
    only_bob = await inbox(demandeur=bob.email, etat="EN_COURS_DE_VALIDATION")
    assert [r["structure"] for r in only_bob["approbations"]] == [second]
    assert only_bob["enAttente"] == 3  # the badge counts every waiting request
    assert [r["structure"] for r in (await inbox(structure=first))["approbations"]] == [first]
    exported = await identity.get(
        "/v1/me/approbations", params={"format": "csv"}, headers=gp.headers
    )
    assert exported.content.decode("utf-8-sig").count("\r\n") == 4  # header and three rows

    # somebody managing nothing has an empty inbox
    nothing = await identity.get("/v1/me/approbations", headers=alice.headers)
    assert nothing.json() == {"approbations": [], "structures": [], "enAttente": 0}

    # Utilisateurs: the people attached, the GP first; a stranger is refused
    alice_request = next(r["id"] for r in everything["approbations"] if r["structure"] == first)
    approved = await identity.post(
        f"/v1/rattachements/{alice_request}/approve", {}, headers=gp.headers
    )
    assert approved.status_code == 200
    people = await identity.get(f"/v1/structures/{first}/utilisateurs", headers=gp.headers)
    assert people.status_code == 200, people.text
    listed = people.json()["utilisateurs"]
    assert [(m["userId"], m["gestionnairePrincipal"]) for m in listed] == [
        (gp.id, True), (alice.id, False)]
    assert listed[1]["email"] == alice.email
    assert listed[1]["rattachements"][0]["codeService"] is None
    refused = await identity.get(f"/v1/structures/{first}/utilisateurs", headers=bob.headers)
    assert refused.status_code == 403
    assert (await inbox())["enAttente"] == 2
