"""Who may do what, decided from the authorization read model fed by the real identity and
habilitations topics: GP, « Organisation » modification and consultation holders, a user of
another structure, operators, technical accounts."""

import pytest

from chorale_contracts.events.common import Application, Mode

pytestmark = pytest.mark.integration


async def _try(api, headers, siret):
    """Status of: consult, modify, create a service, list bank details, upload, request."""
    consult = await api.client.get(f"/v1/structures/{siret}", headers=headers)
    modify = await api.client.patch(f"/v1/structures/{siret}", json={"ville": "Rennes"},
                                    headers=headers)
    service = await api.client.post(
        f"/v1/structures/{siret}/services",
        json={"codeService": f"S{len(headers['Authorization']) % 97}-{consult.status_code}",
              "libelle": "x", "dateDebutActivation": "2025-01-01"},
        headers=headers,
    )
    bank = await api.client.get(f"/v1/structures/{siret}/coordonnees-bancaires",
                                headers=headers)
    upload = await api.client.post(f"/v1/structures/{siret}/pieces-jointes",
                                   files={"fichier": ("a.txt", b"bonjour")}, headers=headers)
    request = await api.client.post(
        "/v1/demandes", json={"type": "DESACTIVATION_STRUCTURE", "identifiant": siret,
                              "commentaire": "cessation"}, headers=headers,
    )
    return [r.status_code for r in (consult, modify, service, bank, upload, request)]


@pytest.fixture
async def structure(api):
    siret = await api.create_private("creator")
    return siret


async def test_the_creator_acts_once_identity_designates_it_gestionnaire(api, structure):
    before = await api.client.get(f"/v1/structures/{structure}", headers=api.user("creator"))
    assert (before.status_code, before.json()["details"]["raison"]) == (403, "NO_GRANT")
    await api.designate_gp(structure, "creator")
    assert await _try(api, api.user("creator"), structure) == [200, 200, 201, 200, 201, 201]


async def test_organisation_modification_holder_acts_on_the_structure(api, structure):
    await api.grant("org-writer", structure, Mode.MODIFICATION)
    assert await _try(api, api.user("org-writer"), structure) == [200, 200, 201, 200, 201, 201]


async def test_consultation_holder_reads_only(api, structure):
    await api.grant("org-reader", structure, Mode.CONSULTATION)
    assert await _try(api, api.user("org-reader"), structure) == [200, 403, 403, 200, 403, 403]
    refused = await api.client.patch(f"/v1/structures/{structure}", json={"ville": "Brest"},
                                     headers=api.user("org-reader"))
    assert refused.json()["code"] == "FORBIDDEN"
    assert refused.json()["details"]["raison"] == "CONSULTATION_ONLY"


async def test_another_application_or_another_structure_gives_nothing(api, structure):
    other = await api.create_private("other-gp")
    await api.designate_gp(other, "other-gp")
    await api.grant("invoices-only", structure, Mode.MODIFICATION,
                    application=Application.FACTURES_RECUES)
    assert await _try(api, api.user("other-gp"), structure) == [403] * 6
    assert await _try(api, api.user("invoices-only"), structure) == [403] * 6


async def test_operators_act_everywhere_and_technical_accounts_nowhere(api, structure):
    assert await _try(api, api.operator(), structure) == [200, 200, 201, 200, 201, 201]
    assert await _try(api, api.technical(structure), structure) == [403] * 6


async def test_a_service_level_grant_covers_that_service_only(api, structure):
    for code in ("ACHATS", "VENTES"):
        created = await api.client.post(
            f"/v1/structures/{structure}/services",
            json={"codeService": code, "libelle": code, "dateDebutActivation": "2025-01-01"},
            headers=api.operator(),
        )
        assert created.status_code == 201
    await api.grant("service-writer", structure, Mode.MODIFICATION, code_service="ACHATS")
    headers = api.user("service-writer")
    own = await api.client.patch(f"/v1/structures/{structure}/services/achats",
                                 json={"libelle": "Achats"}, headers=headers)
    other = await api.client.patch(f"/v1/structures/{structure}/services/VENTES",
                                   json={"libelle": "Ventes"}, headers=headers)
    structure_level = await api.client.patch(f"/v1/structures/{structure}",
                                             json={"ville": "Vannes"}, headers=headers)
    assert [own.status_code, other.status_code, structure_level.status_code] == [200, 403, 403]


async def test_operator_only_endpoints(api, structure):
    await api.designate_gp(structure, "gp-not-operator")
    headers = api.user("gp-not-operator")
    responses = [
        await api.client.get("/v1/demandes", headers=headers),
        await api.client.post("/v1/demandes/x/acceptation", headers=headers),
        await api.client.post("/v1/demandes/x/refus", json={"commentaireOperateur": "non"},
                              headers=headers),
        await api.client.post("/v1/structures/imports", content=b"identifiant\n",
                              headers=headers),
        await api.client.get("/v1/structures/imports/x", headers=headers),
        await api.client.post(f"/v1/structures/{structure}/desactivation", headers=headers),
    ]
    assert [r.status_code for r in responses] == [403] * 6
    assert {r.json()["details"]["raison"] for r in responses} == {"OPERATOR_ONLY"}
    directory = await api.client.get("/v1/annuaire", headers=headers)
    assert directory.status_code == 200
    technical = await api.client.get("/v1/annuaire", headers=api.technical(structure))
    assert technical.status_code == 403


async def test_anyone_signed_in_finds_an_active_structure_and_its_services_to_ask_to_join(
        api, structure):
    await api.designate_gp(structure, "creator")
    await api.client.patch(f"/v1/structures/{structure}", headers=api.user("creator"),
                           json={"libelleStructure": f"Libellé {structure}"})
    created = await api.client.post(
        f"/v1/structures/{structure}/services", headers=api.user("creator"),
        json={"codeService": "COMPTA", "libelle": "Comptabilité",
              "dateDebutActivation": "2025-01-01"})
    assert created.status_code == 201
    stranger = api.user("not-attached-yet")  # no grant, no structure
    for text in (structure, f"libellé {structure}", f"Fournisseur {structure}"):
        found = await api.client.get("/v1/annuaire/structures", params={"recherche": text},
                                     headers=stranger)
        assert found.status_code == 200, found.text
        assert [s["identifiant"] for s in found.json()["listeStructures"]] == [structure]
    services = await api.client.get(f"/v1/annuaire/structures/{structure}/services",
                                    headers=stranger)
    assert [s["codeService"] for s in services.json()["listeServices"]] == ["COMPTA"]
    assert (await api.client.get("/v1/annuaire/structures", params={"recherche": structure},
                                 headers=api.technical(structure))).status_code == 403
    await api.client.post(f"/v1/structures/{structure}/desactivation", headers=api.operator())
    gone = await api.client.get("/v1/annuaire/structures", params={"recherche": structure},
                                headers=stranger)
    assert gone.json()["listeStructures"] == []
    assert (await api.client.get(f"/v1/annuaire/structures/{structure}/services",
                                 headers=stranger)).status_code == 404
