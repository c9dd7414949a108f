"""Structure requests decided by an operator: creation of a public structure, deactivation;
decided once; an interrupted acceptance is completed at the next start."""

import pytest

from chorale_contracts import Topic
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_structures.bootstrap import build_app
from chorale_structures.settings import StructuresSettings

pytestmark = pytest.mark.integration


def _creation(siret: str, **structure) -> dict:
    return {"type": "CREATION_STRUCTURE_PUBLIQUE", "commentaire": "Nouvelle commune",
            "structure": {"identifiant": siret, "raisonSociale": "Commune nouvelle",
                          "codePostal": "49000", "ville": "Angers", **structure}}


async def test_an_accepted_creation_request_creates_the_public_structure(api):
    siret = api.siret()
    submitted = await api.client.post("/v1/demandes", json=_creation(
        siret, numeroEJDoitEtreRenseigne=True), headers=api.user("agent-angers"))
    assert submitted.status_code == 201, submitted.text
    request = submitted.json()
    assert (request["statut"], request["type"], request["demandeur"]) == (
        "EN_ATTENTE", "CREATION_STRUCTURE_PUBLIQUE", "agent-angers")
    assert await api.db["structures"].find_one({"_id": siret}) is None

    own = await api.client.get(f"/v1/demandes/{request['idDemande']}",
                               headers=api.user("agent-angers"))
    assert own.status_code == 200
    foreign = await api.client.get(f"/v1/demandes/{request['idDemande']}",
                                   headers=api.user("someone-else"))
    assert foreign.status_code == 403
    pending = await api.client.get("/v1/demandes", params={"statut": "EN_ATTENTE"},
                                   headers=api.operator())
    assert request["idDemande"] in [d["idDemande"] for d in pending.json()["listeDemandes"]]

    accepted = await api.client.post(f"/v1/demandes/{request['idDemande']}/acceptation",
                                     json={"commentaireOperateur": "Vu"},
                                     headers=api.operator("operator-7"))
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["statut"], accepted.json()["decideur"]) == ("ACCEPTEE", "operator-7")
    assert accepted.json()["effet"] == "APPLIQUE"
    structure = await api.client.get(f"/v1/structures/{siret}", headers=api.operator())
    assert structure.json()["typeStructure"] == "PUBLIQUE"
    assert structure.json()["parametres"]["numeroEJDoitEtreRenseigne"] is True
    services = await api.client.get(f"/v1/structures/{siret}/services", headers=api.operator())
    assert [s["codeService"] for s in services.json()["listeServices"]] == ["FACTURES_PUBLIQUES"]

    again = await api.client.post(f"/v1/demandes/{request['idDemande']}/refus",
                                  json={"commentaireOperateur": "Non"}, headers=api.operator())
    assert (again.status_code, again.json()["code"]) == (409, "REQUEST_ALREADY_DECIDED")
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 4)
    assert [e.event_type for e in events] == [
        "structure.request_submitted", "structure.request_decided", "structure.created",
        "structure.service_created",
    ]
    assert events[2].payload["origin"] == "REQUEST"
    snapshot = await api.events_of(Topic.DIRECTORY, siret, lambda evs: evs)
    assert snapshot[0].payload["services"][0]["codeService"] == "FACTURES_PUBLIQUES"


async def test_refusal_needs_a_reason_and_changes_nothing_else(api):
    siret = api.siret()
    submitted = await api.client.post("/v1/demandes", json=_creation(siret),
                                      headers=api.user("agent-refused"))
    request_id = submitted.json()["idDemande"]
    no_reason = await api.client.post(f"/v1/demandes/{request_id}/refus", headers=api.operator())
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "VALIDATION_FAILED")
    refused = await api.client.post(f"/v1/demandes/{request_id}/refus",
                                    json={"commentaireOperateur": "SIRET d'une autre entité"},
                                    headers=api.operator())
    assert refused.json()["statut"] == "REFUSEE"
    assert await api.db["structures"].find_one({"_id": siret}) is None
    late = await api.client.post(f"/v1/demandes/{request_id}/acceptation",
                                 headers=api.operator())
    assert late.status_code == 409


async def test_invalid_or_conflicting_requests_are_refused_at_once(api):
    existing = await api.create_private("gp-conflict")
    for body, code in (
        (_creation(existing), "STRUCTURE_EXISTS"),
        (_creation("12345678901234"), "SIRET_INVALID"),
        (_creation("20007104100046", gestionNumeroEJOuCodeService=True,
                   codeServiceDoitEtreRenseigne=True), "PARAMETERS_INCOHERENT"),
        ({"type": "FUSION"}, "VALIDATION_FAILED"),
    ):
        response = await api.client.post("/v1/demandes", json=body, headers=api.user("agent-x"))
        assert response.json()["code"] == code, body
    missing = await api.client.post(
        "/v1/demandes", json={"type": "DESACTIVATION_STRUCTURE", "identifiant": "20007104100046"},
        headers=api.operator())
    assert missing.json()["code"] == "STRUCTURE_NOT_FOUND"


async def test_an_accepted_deactivation_request_deactivates_the_structure(api):
    siret = await api.create_private("gp-leaving")
    await api.designate_gp(siret, "gp-leaving")
    submitted = await api.client.post(
        "/v1/demandes", json={"type": "DESACTIVATION_STRUCTURE", "identifiant": siret,
                              "commentaire": "Cessation d'activité"},
        headers=api.user("gp-leaving"))
    assert submitted.status_code == 201, submitted.text
    accepted = await api.client.post(f"/v1/demandes/{submitted.json()['idDemande']}/acceptation",
                                     headers=api.operator())
    assert accepted.json()["effet"] == "APPLIQUE"
    structure = await api.client.get(f"/v1/structures/{siret}", headers=api.operator())
    assert structure.json()["statut"] == "INACTIVE"
    snapshots = await api.events_of(Topic.DIRECTORY, siret, lambda evs: len(evs) >= 2)
    assert snapshots[-1].payload["statut"] == "INACTIVE"
    second = await api.client.post(
        "/v1/demandes", json={"type": "DESACTIVATION_STRUCTURE", "identifiant": siret},
        headers=api.operator())
    assert second.json()["code"] == "STRUCTURE_INACTIVE"


async def test_an_acceptance_interrupted_before_its_effect_is_completed_at_start(
    api, infra, namespace, tmp_path
):
    """The crash window: the decision is stored, the structure is not created yet."""
    from chorale_structures.adapters.structure_store import StructureStore
    from chorale_structures.domain import accept
    from chorale_structures.service_layer.context import Actor
    from chorale_structures.service_layer.requests import Requests, request_store

    settings = settings_for(StructuresSettings, infra, namespace, import_dir=tmp_path)
    app = build_app(settings, verifier=api.tokens.verifier())
    async with serve_in_process(app) as base:
        db = app.state.runtime.db
        requests = Requests(request_store(db), StructureStore(db))
        siret = api.siret()
        submitted = await requests.submit(_creation(siret), Actor("agent", "c1"))
        operator = Actor("operator-crash", "c2", is_operator=True)
        decided, events = accept(submitted.model, operator_id="operator-crash", now=operator.now)
        # What accept() stores before applying the effect; then the process dies.
        await requests.store.save(submitted, decided, operator.envelopes(events), operator.now,
                                  {"effet": "A_APPLIQUER"})
        assert base
    # Restart: the service completes the effect on its own.
    app = build_app(settings, verifier=api.tokens.verifier())
    async with serve_in_process(app):
        db = app.state.runtime.db
        await eventually(lambda: db["requests"].find_one(
            {"_id": submitted.model.idDemande, "effet": "APPLIQUE"}), timeout=30)
        structure = await db["structures"].find_one({"_id": siret})
        assert structure["idDemandeOrigine"] == submitted.model.idDemande
