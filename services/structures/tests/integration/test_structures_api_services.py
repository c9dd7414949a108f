"""Services over HTTP on the real database and broker: rules, uniqueness of the code under
concurrent requests, and the directory snapshot following every change."""

import asyncio

import pytest

from chorale_contracts import Topic

pytestmark = pytest.mark.integration


def _service(code: str, **fields) -> dict:
    return {"codeService": code, "libelle": f"Service {code}",
            "dateDebutActivation": "2025-01-01", **fields}


async def test_create_list_modify_and_the_rules_of_services(api):
    siret = await api.create_public()
    created = await api.client.post(
        f"/v1/structures/{siret}/services",
        json=_service("compta-1", numeroEJDoitEtreRenseigne=True,
                      dateFinActivation="2025-12-31"),
        headers=api.operator(),
    )
    assert created.status_code == 201, created.text
    assert created.json()["codeService"] == "COMPTA-1"
    assert created.headers["Location"].endswith("/services/COMPTA-1")
    listed = await api.client.get(f"/v1/structures/{siret}/services", headers=api.operator())
    assert [s["codeService"] for s in listed.json()["listeServices"]] == [
        "COMPTA-1", "FACTURES_PUBLIQUES"
    ]
    modified = await api.client.patch(
        f"/v1/structures/{siret}/services/compta-1", json={"libelle": "Comptabilité"},
        headers=api.operator(),
    )
    assert modified.json()["libelle"] == "Comptabilité"

    for method, path, body, status, code in (
        ("post", "", _service("COMPTA-1"), 409, "SERVICE_CODE_TAKEN"),
        ("post", "", _service("FACTURES_PUBLIQUES"), 422, "SERVICE_CODE_RESERVED"),
        ("post", "", _service("été"), 422, "SERVICE_CODE_INVALID"),
        ("post", "", {"codeService": "X", "libelle": "X"}, 422, "VALIDATION_FAILED"),
        ("post", "", _service("D", dateFinActivation="2024-12-31"), 422, "DATES_INCOHERENT"),
        ("patch", "/COMPTA-1", {"dateFinActivation": "2024-01-01"}, 422, "DATES_INCOHERENT"),
        ("patch", "/COMPTA-1", {"statut": "INACTIF"}, 422, "FIELD_READ_ONLY"),
        ("patch", "/INCONNU", {"libelle": "x"}, 404, "SERVICE_NOT_FOUND"),
        ("patch", "/FACTURES_PUBLIQUES", {"libelle": "x"}, 422, "SERVICE_CODE_RESERVED"),
        ("post", "/FACTURES_PUBLIQUES/desactivation", None, 422, "SERVICE_CODE_RESERVED"),
        ("post", "/COMPTA-1/activation", None, 409, "SERVICE_ALREADY_ACTIVE"),
    ):
        response = await api.client.request(
            method, f"/v1/structures/{siret}/services{path}", json=body, headers=api.operator()
        )
        assert (response.status_code, response.json()["code"]) == (status, code), (path, body)
    doc = await api.db["structures"].find_one({"_id": siret})
    assert sorted(s["codeService"] for s in doc["services"]) == ["COMPTA-1", "FACTURES_PUBLIQUES"]
    assert doc["version"] == 3  # creation, service created, service modified: nothing else
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 6)
    assert [e.event_type for e in events][-3:] == [
        "structure.service_created", "structure.service_created", "structure.service_updated"
    ]  # FACTURES_PUBLIQUES at creation, COMPTA-1, then its new libellé
    assert events[-1].payload["libelle"] == "Comptabilité"


async def test_twenty_concurrent_creations_of_one_code_make_exactly_one_service(api):
    siret = await api.create_private("gp-race")
    responses = await asyncio.gather(*[
        api.client.post(f"/v1/structures/{siret}/services",
                        json=_service("RACE", libelle=f"Concurrent {i}"), headers=api.operator())
        for i in range(20)
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"SERVICE_CODE_TAKEN"}
    doc = await api.db["structures"].find_one({"_id": siret})
    assert [s["codeService"] for s in doc["services"]] == ["RACE"]
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert doc["services"][0]["libelle"] == winner["libelle"]
    events = await api.events_of(
        Topic.STRUCTURES, siret, lambda evs: any(e.event_type.endswith("created") for e in evs[1:])
    )
    await asyncio.sleep(1)  # give a second, wrong, event the time to show up
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 2)
    assert [e.event_type for e in events] == ["structure.created", "structure.service_created"]


async def test_twenty_concurrent_creations_of_distinct_codes_all_land(api):
    siret = await api.create_private("gp-many")
    responses = await asyncio.gather(*[
        api.client.post(f"/v1/structures/{siret}/services", json=_service(f"S{i:02d}"),
                        headers=api.operator())
        for i in range(20)
    ])
    assert [r.status_code for r in responses] == [201] * 20
    doc = await api.db["structures"].find_one({"_id": siret})
    assert sorted(s["codeService"] for s in doc["services"]) == [f"S{i:02d}" for i in range(20)]
    assert doc["version"] == 21
    snapshots = await api.events_of(
        Topic.DIRECTORY, siret, lambda evs: any(s.payload["version"] == 21 for s in evs)
    )
    assert [s.payload["version"] for s in snapshots] == list(range(1, 22))
    assert len(snapshots[-1].payload["services"]) == 20


async def test_directory_snapshot_reflects_a_service_deactivation(api):
    siret = await api.create_public(codeServiceDoitEtreRenseigne=True)
    await api.client.post(f"/v1/structures/{siret}/services",
                          json=_service("ACHATS", numeroEJDoitEtreRenseigne=True),
                          headers=api.operator())
    deactivated = await api.client.post(
        f"/v1/structures/{siret}/services/ACHATS/desactivation", headers=api.operator()
    )
    assert deactivated.json()["statut"] == "INACTIF"

    def latest_has_achats_inactive(snapshots) -> bool:
        return any(
            s["codeService"] == "ACHATS" and s["statut"] == "INACTIF"
            for snap in snapshots for s in snap.payload["services"]
        )

    snapshots = await api.events_of(Topic.DIRECTORY, siret, latest_has_achats_inactive)
    latest = snapshots[-1]
    assert latest.event_type == "directory.snapshot"
    assert latest.key == siret
    assert latest.payload["version"] == 3
    assert latest.payload["parametres"]["codeServiceDoitEtreRenseigne"] is True
    assert latest.payload["services"] == [
        {"codeService": "ACHATS", "libelle": "Service ACHATS", "statut": "INACTIF",
         "dateDebutActivation": "2025-01-01", "dateFinActivation": None,
         "numeroEJDoitEtreRenseigne": True},
        {"codeService": "FACTURES_PUBLIQUES", "libelle": "Factures publiques",
         "statut": "ACTIF", "dateDebutActivation": latest.payload["services"][1][
             "dateDebutActivation"], "dateFinActivation": None,
         "numeroEJDoitEtreRenseigne": False},
    ]
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 4)
    assert [e.event_type for e in events][-2:] == [
        "structure.service_created", "structure.service_deactivated"
    ]
    again = await api.client.post(f"/v1/structures/{siret}/services/ACHATS/activation",
                                  headers=api.operator())
    assert again.json()["statut"] == "ACTIF"
    snapshots = await api.events_of(Topic.DIRECTORY, siret, lambda evs: len(evs) >= 4)
    assert snapshots[-1].payload["services"][0]["statut"] == "ACTIF"
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 5)
    assert events[-1].event_type == "structure.service_activated"


async def test_the_directory_topic_is_compacted_and_keyed_by_identifiant(api):
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    from chorale_contracts import topic_name

    admin = AIOKafkaAdminClient(bootstrap_servers=api.infra.kafka_bootstrap)
    await admin.start()
    try:
        name = topic_name(Topic.DIRECTORY, api.namespace.topic_prefix)
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name)]
        )
    finally:
        await admin.close()
    entries = {e[0]: e[1] for e in described[0].resources[0][4]}
    assert entries["cleanup.policy"] == "compact"


async def test_the_database_guard_lets_one_of_twenty_same_code_writes_win(api):
    """Below the per-structure queue: twenty writers that all decided on version 1 that the
    code was free; the compare-and-set on the real database lets exactly one write."""
    from datetime import date

    from chorale_structures.adapters.structure_store import StructureStore
    from chorale_structures.domain import new_service
    from chorale_structures.service_layer.context import Actor
    from chorale_structures.service_layer.structure_changes import envelopes_for

    store = StructureStore(api.db)
    siret = await api.create_private("gp-guard")
    current = await store.get(siret)
    actor = Actor("tests", "guard")
    attempts = []
    for i in range(20):
        service, events = new_service(
            current.structure, {"codeService": "GUARD", "libelle": f"Écrivain {i}",
                                "dateDebutActivation": date(2025, 1, 1)}, current.services
        )
        new = current.evolve(current.structure, {"GUARD": service}, actor.now)
        attempts.append(store.replace(current.version, new, envelopes_for(actor, new, events)))
    results = await asyncio.gather(*attempts)
    assert results.count(True) == 1
    doc = await api.db["structures"].find_one({"_id": siret})
    assert (doc["version"], [s["codeService"] for s in doc["services"]]) == (2, ["GUARD"])
