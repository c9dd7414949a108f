"""Structures over HTTP on the real database: create, consult, search, modify, parameters,
errors with stable codes and nothing partially written."""

import pytest

from chorale_contracts import Topic
from chorale_contracts.events.common import Mode

pytestmark = pytest.mark.integration


async def _doc(api, siret):
    return await api.db["structures"].find_one({"_id": siret})


async def test_a_supplier_creates_its_structure_and_is_named_as_creator(api):
    response = await api.client.post(
        "/v1/structures",
        json={"identifiant": "356 000 000 00048", "raisonSociale": "La Poste",
              "adresse": "9 rue du Colonel Pierre Avia", "codePostal": "75015",
              "ville": "Paris"},
        headers=api.user("user-creator"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["identifiant"] == "35600000000048"
    assert (body["typeStructure"], body["statut"], body["version"]) == ("PRIVEE", "ACTIVE", 1)
    assert response.headers["Location"] == "/v1/structures/35600000000048"
    created = await api.events_of(Topic.STRUCTURES, "35600000000048", lambda evs: evs)
    assert [e.event_type for e in created] == ["structure.created"]
    assert created[0].payload["createdBy"] == "user-creator"
    assert created[0].payload["origin"] == "SELF_SERVICE"
    snapshots = await api.events_of(Topic.DIRECTORY, "35600000000048", lambda evs: evs)
    assert snapshots[0].payload["version"] == 1
    assert snapshots[0].payload["typeStructure"] == "PRIVEE"


async def test_creation_errors_have_stable_codes_and_write_nothing(api):
    siret = await api.create_private("user-dup")
    again = await api.client.post(
        "/v1/structures", json={"identifiant": siret, "raisonSociale": "Autre"},
        headers=api.user("user-other"),
    )
    assert (again.status_code, again.json()["code"]) == (409, "STRUCTURE_EXISTS")
    assert again.json()["message"].startswith("Une structure existe déjà")
    invalid = await api.client.post(
        "/v1/structures", json={"identifiant": "12345678901234", "raisonSociale": "X"},
        headers=api.user("user-x"),
    )
    assert (invalid.status_code, invalid.json()["code"]) == (422, "SIRET_INVALID")
    public = await api.client.post(
        "/v1/structures",
        json={"identifiant": "20007104100046", "raisonSociale": "X", "typeStructure": "PUBLIQUE"},
        headers=api.user("user-x"),
    )
    assert (public.status_code, public.json()["code"]) == (422, "VALIDATION_FAILED")
    bad_mail = await api.client.post(
        "/v1/structures",
        json={"identifiant": "20007104100046", "raisonSociale": "X", "adresseElectronique": "@"},
        headers=api.user("user-x"),
    )
    assert bad_mail.json()["details"]["fields"] == {
        "adresseElectronique": "adresse électronique invalide"
    }
    assert await _doc(api, "20007104100046") is None
    anonymous = await api.client.post("/v1/structures", json={"identifiant": siret})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    technical = await api.client.post(
        "/v1/structures", json={"identifiant": "20007104100046", "raisonSociale": "X"},
        headers=api.technical(siret),
    )
    assert technical.status_code == 403


async def test_modify_general_information_and_address(api):
    siret = await api.create_private("gp-modify")
    await api.designate_gp(siret, "gp-modify")
    response = await api.client.patch(
        f"/v1/structures/{siret}",
        json={"ville": "Lyon", "codePostal": "69001", "telephone": "+33 4 72 00 00 00"},
        headers=api.user("gp-modify"),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["ville"], response.json()["version"]) == ("Lyon", 2)
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 2)
    assert events[1].event_type == "structure.updated"
    assert events[1].payload["changes"] == {
        "ville": "Lyon", "codePostal": "69001", "telephone": "+33 4 72 00 00 00"
    }
    snapshots = await api.events_of(Topic.DIRECTORY, siret, lambda evs: len(evs) >= 2)
    assert [s.payload["version"] for s in snapshots] == [1, 2]

    same = await api.client.patch(f"/v1/structures/{siret}", json={"ville": "Lyon"},
                                  headers=api.user("gp-modify"))
    assert same.json()["version"] == 2  # nothing changed: nothing written, no event

    for body, code in (
        ({"typeStructure": "PUBLIQUE"}, "FIELD_READ_ONLY"),
        ({"codePostal": "ABC"}, "VALIDATION_FAILED"),
        ({"ville": "Nantes", "couleur": "bleu"}, "VALIDATION_FAILED"),
        ({"codeServiceDoitEtreRenseigne": True}, "VALIDATION_FAILED"),
    ):
        refused = await api.client.patch(f"/v1/structures/{siret}", json=body,
                                         headers=api.user("gp-modify"))
        assert (refused.status_code, refused.json()["code"]) == (422, code), body
    doc = await _doc(api, siret)
    assert (doc["ville"], doc["version"]) == ("Lyon", 2)


async def test_parameters_of_a_public_structure(api):
    siret = await api.create_public()
    response = await api.client.put(
        f"/v1/structures/{siret}/parametres",
        json={"codeServiceDoitEtreRenseigne": True, "presenceMOA": "AVEC_MOA"},
        headers=api.operator(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["parametres"]["codeServiceDoitEtreRenseigne"] is True
    incoherent = await api.client.put(
        f"/v1/structures/{siret}/parametres", json={"gestionNumeroEJOuCodeService": True},
        headers=api.operator(),
    )
    assert (incoherent.status_code, incoherent.json()["code"]) == (422, "PARAMETERS_INCOHERENT")
    await api.grant("org-params", siret, Mode.MODIFICATION)
    operator_only = await api.client.put(
        f"/v1/structures/{siret}/parametres", json={"recevoirDonneesViaEDI": True},
        headers=api.user("org-params"),
    )
    assert (operator_only.status_code, operator_only.json()["code"]) == (422, "FIELD_READ_ONLY")
    events = await api.events_of(
        Topic.STRUCTURES, siret,
        lambda evs: any(e.event_type == "structure.parameters_changed" for e in evs),
    )
    changed = next(e for e in events if e.event_type == "structure.parameters_changed")
    assert changed.payload["parameters"]["presenceMOA"] == "AVEC_MOA"
    snapshots = await api.events_of(Topic.DIRECTORY, siret, lambda evs: len(evs) >= 2)
    assert snapshots[-1].payload["parametres"]["codeServiceDoitEtreRenseigne"] is True

    private = await api.create_private("gp-private-params")
    refused = await api.client.put(
        f"/v1/structures/{private}/parametres", json={"numeroEJDoitEtreRenseigne": True},
        headers=api.operator(),
    )
    assert refused.json()["code"] == "PARAMETERS_NOT_APPLICABLE"


async def test_consult_and_search_with_filters_pagination_and_sort(api):
    sirets = [
        await api.create_private("searcher", raisonSociale=f"Menuiserie Zéphyr {i}",
                                 ville="Quimper", codePostal=f"2900{i}")
        for i in range(3)
    ]
    got = await api.client.get(f"/v1/structures/{sirets[0]}", headers=api.operator())
    assert got.json()["raisonSociale"] == "Menuiserie Zéphyr 0"
    missing = await api.client.get("/v1/structures/20007104100046", headers=api.operator())
    assert (missing.status_code, missing.json()["code"]) == (404, "STRUCTURE_NOT_FOUND")

    page = await api.client.get(
        "/v1/structures",
        params={"raisonSociale": "menuiserie zéphyr", "ville": "quimper", "taille": 2,
                "tri": "-raisonSociale"},
        headers=api.operator(),
    )
    body = page.json()
    assert body["parametresRetour"] == {
        "pageCourante": 1, "nbResultatsParPage": 2, "pagesTotales": 2, "total": 3
    }
    assert [s["raisonSociale"] for s in body["listeStructures"]] == [
        "Menuiserie Zéphyr 2", "Menuiserie Zéphyr 1"
    ]
    second = await api.client.get(
        "/v1/structures",
        params={"raisonSociale": "Zéphyr", "page": 2, "taille": 2, "tri": "-raisonSociale"},
        headers=api.operator(),
    )
    assert [s["identifiant"] for s in second.json()["listeStructures"]] == [sirets[0]]
    by_code = await api.client.get(
        "/v1/structures", params={"codePostal": "29001", "typeStructure": "PRIVEE",
                                  "statut": "ACTIVE"},
        headers=api.operator(),
    )
    assert [s["identifiant"] for s in by_code.json()["listeStructures"]] == [sirets[1]]

    # A user sees only the structures they manage or hold « Organisation » on.
    await api.designate_gp(sirets[2], "searcher")
    mine = await api.client.get("/v1/structures", params={"raisonSociale": "Zéphyr"},
                                headers=api.user("searcher"))
    assert [s["identifiant"] for s in mine.json()["listeStructures"]] == [sirets[2]]
    nobody = await api.client.get("/v1/structures", params={"raisonSociale": "Zéphyr"},
                                  headers=api.user("stranger"))
    assert nobody.json()["parametresRetour"]["total"] == 0
    bad_sort = await api.client.get("/v1/structures", params={"tri": "couleur"},
                                    headers=api.operator())
    assert bad_sort.status_code == 422


async def test_operator_deactivates_and_reactivates_a_structure(api):
    siret = await api.create_private("gp-statut")
    off = await api.client.post(f"/v1/structures/{siret}/desactivation", headers=api.operator())
    assert off.json()["statut"] == "INACTIVE"
    twice = await api.client.post(f"/v1/structures/{siret}/desactivation",
                                  headers=api.operator())
    assert (twice.status_code, twice.json()["code"]) == (409, "STRUCTURE_INACTIVE")
    on = await api.client.post(f"/v1/structures/{siret}/activation", headers=api.operator())
    assert on.json()["statut"] == "ACTIVE"
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 3)
    assert [e.event_type for e in events] == [
        "structure.created", "structure.deactivated", "structure.activated"
    ]
    snapshots = await api.events_of(Topic.DIRECTORY, siret, lambda evs: len(evs) >= 3)
    assert [(s.payload["version"], s.payload["statut"]) for s in snapshots] == [
        (1, "ACTIVE"), (2, "INACTIVE"), (3, "ACTIVE")
    ]
