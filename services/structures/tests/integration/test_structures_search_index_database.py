"""The in-memory search index on the real database: loaded at start, it follows creations,
modifications, status changes and imports, is rebuilt by a restart, and answers as the
database query would."""

import httpx
import pytest

from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_structures.adapters.structure_store import NO_OUTBOX, mongo_query
from chorale_structures.bootstrap import build_app
from chorale_structures.domain.structure_search import SearchCriteria
from chorale_structures.settings import StructuresSettings

pytestmark = pytest.mark.integration

IMPORT_HEADER = "type;identifiant;raisonSociale;ville;codePostal"


async def _loaded(app) -> None:
    await eventually(lambda: app.state.structures.index.loaded)


async def _search(api, headers=None, **params) -> dict:
    answer = await api.client.get("/v1/structures", params=params,
                                  headers=headers or api.operator())
    assert answer.status_code == 200, answer.text
    return answer.json()


def _ids(found: dict) -> list[str]:
    return [s["identifiant"] for s in found["listeStructures"]]


async def _import(api, lines: list[str]) -> None:
    started = await api.client.post(
        "/v1/structures/imports", content="\n".join([IMPORT_HEADER, *lines]) + "\n",
        params={"nomFichier": "referentiel.csv"},
        headers={**api.operator(), "Content-Type": "text/csv"},
    )
    assert started.status_code == 202, started.text

    async def finished():
        job = (await api.client.get(started.headers["Location"], headers=api.operator())).json()
        return job if job["statut"] == "TERMINE" else None

    await eventually(finished, timeout=60)


async def test_the_index_follows_every_write_and_a_restart(api, infra, module_namespace,
                                                           tmp_path):
    await _loaded(api.app)
    index = api.app.state.structures.index
    before = len(index)

    created = await api.create_private("indexed-owner", raisonSociale="Ébénisterie Quetzal",
                                       ville="Quimper", codePostal="29000")
    assert len(index) == before + 1
    assert _ids(await _search(api, raisonSociale="quetzal")) == [created]

    renamed = await api.client.patch(f"/v1/structures/{created}",
                                     json={"raisonSociale": "Ébénisterie Ornicar"},
                                     headers=api.operator())
    assert renamed.status_code == 200, renamed.text
    assert (await _search(api, raisonSociale="quetzal"))["parametresRetour"]["total"] == 0
    found = await _search(api, raisonSociale="ornicar")
    assert _ids(found) == [created]
    assert found["listeStructures"][0]["raisonSociale"] == "Ébénisterie Ornicar"

    deactivated = await api.client.post(f"/v1/structures/{created}/desactivation",
                                        headers=api.operator())
    assert deactivated.status_code == 200, deactivated.text
    assert _ids(await _search(api, raisonSociale="ornicar", statut="INACTIVE")) == [created]
    assert _ids(await _search(api, raisonSociale="ornicar", statut="ACTIVE")) == []

    imported, changed = api.siret(), api.siret()
    await _import(api, [f"STRUCTURE;{imported};COMMUNE XYLOPHONE;Brest;29200",
                        f"STRUCTURE;{changed};COMMUNE YOYO;Brest;29200"])
    await _import(api, [f"STRUCTURE;{changed};COMMUNE YOYO-SUR-MER;Brest;29200"])
    assert _ids(await _search(api, raisonSociale="xylophone", codePostal="292")) == [imported]
    assert _ids(await _search(api, raisonSociale="yoyo-sur")) == [changed]

    # A restart on the same database rebuilds the same index.
    settings = settings_for(StructuresSettings, infra, module_namespace,
                            import_dir=tmp_path / "imports")
    restarted = build_app(settings, verifier=api.tokens.verifier())
    async with serve_in_process(restarted) as base, httpx.AsyncClient(base_url=base) as client:
        await _loaded(restarted)
        reloaded = restarted.state.structures.index
        assert len(reloaded) == len(index)
        answer = await client.get("/v1/structures", params={"raisonSociale": "ornicar"},
                                  headers=api.operator())
        assert _ids(answer.json()) == [created]
        assert answer.json()["listeStructures"][0]["statut"] == "INACTIVE"


@pytest.mark.parametrize("criteria, tri", [
    (SearchCriteria(), "raisonSociale"),
    (SearchCriteria(raisonSociale="commune"), "-raisonSociale"),
    (SearchCriteria(ville="BREST", typeStructure="PUBLIQUE"), "codePostal"),
    (SearchCriteria(codePostal="29", statut="ACTIVE"), "-dateCreation"),
    (SearchCriteria(raisonSociale="e", ville="e"), "-identifiant"),
])
async def test_the_index_answers_as_the_database_query(api, criteria, tri):
    await _loaded(api.app)
    for i in range(3):
        await api.create_private("compared", raisonSociale=f"Commune {i}", ville="Brest",
                                 codePostal=f"2920{i}")
    store = api.app.state.structures
    sort = [(tri.lstrip("-"), -1 if tri.startswith("-") else 1)]
    sort = [("_id" if sort[0][0] == "identifiant" else sort[0][0], sort[0][1])]
    sort += [("_id", 1)] if sort[0][0] != "_id" else []
    collection = api.db["structures"]
    query = mongo_query(criteria)
    expected_total = await collection.count_documents(query)
    expected = [doc["_id"] async for doc in
                collection.find(query, NO_OUTBOX).sort(sort).skip(1).limit(4)]
    total, page = await store.search(criteria, sort, 1, 4)
    assert (total, [s.identifiant for s in page]) == (expected_total, expected)
    assert expected_total > 0
