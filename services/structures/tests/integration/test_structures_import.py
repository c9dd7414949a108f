"""The operators' import of public structures on the real database and broker: the report,
idempotence on re-import, file-level failures, and the directory export round trip."""

import csv
import io
import json

import pytest

from chorale_contracts import Topic
from chorale_runtime.testing.kafka_probe import eventually

pytestmark = pytest.mark.integration

HEADER = ("type;identifiant;raisonSociale;ville;codePostal;codeServiceDoitEtreRenseigne;"
          "gestionNumeroEJOuCodeService;statut;codeService;libelle;dateDebutActivation;"
          "dateFinActivation")


def _file(api, private: str) -> tuple[str, list[str]]:
    a, b = api.siret(), api.siret()
    lines = [
        HEADER,
        f"STRUCTURE;{a};COMMUNE A;Ervy;10130;oui;non;;;;;",              # 2 created
        f"SERVICE;{a};;;;;;ACTIF;compta;Comptabilité;01/02/2025;",       # 3 created
        f"SERVICE;{a};;;;;;;moa;MOA;2025-03-01;2025-02-01",               # 4 DATES_INCOHERENT
        "STRUCTURE;12345678901234;MAUVAIS SIRET;;;;;;;;;",                 # 5 SIRET_INVALID
        f"STRUCTURE;{b};COMMUNE B;Paris;75004;oui;oui;;;;;",              # 6 PARAMETERS_INCOHERENT
        f"SERVICE;{b};;;;;;;achats;Achats;2025-01-01;",                   # 7 STRUCTURE_NOT_FOUND
        f"STRUCTURE;{private};PRIVEE;;;;;;;;;",                            # 8 STRUCTURE_EXISTS
        f"FUSION;{a};;;;;;;;;;",                                           # 9 IMPORT_TYPE_UNKNOWN
        f"SERVICE;{a};;;;;;;FACTURES_PUBLIQUES;x;2025-01-01;",            # 10 reserved
        f"STRUCTURE;{a};COMMUNE A;Ervy;10130;oui;non;;;;;",               # 11 unchanged
    ]
    return "\n".join(lines) + "\n", [a, b]


async def _import(api, content: str | bytes, name: str = "referentiel.csv") -> dict:
    started = await api.client.post(
        "/v1/structures/imports", content=content, params={"nomFichier": name},
        headers={**api.operator(), "Content-Type": "text/csv"},
    )
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"/v1/structures/imports/{started.json()['idImport']}"

    async def finished():
        job = (await api.client.get(started.headers["Location"], headers=api.operator())).json()
        return job if job["statut"] in ("TERMINE", "ECHEC") else None

    return await eventually(finished, timeout=60)


async def test_import_reports_each_line_and_reimport_is_unchanged(api):
    private = await api.create_private("gp-import")
    content, (a, b) = _file(api, private)
    report = await _import(api, content)
    assert report["statut"] == "TERMINE"
    assert report["lignes"] == {"traitees": 10, "creees": 2, "modifiees": 0, "inchangees": 1,
                                "rejetees": 7}
    assert [(r["ligne"], r["code"]) for r in report["rejets"]] == [
        (4, "DATES_INCOHERENT"), (5, "SIRET_INVALID"), (6, "PARAMETERS_INCOHERENT"),
        (7, "STRUCTURE_NOT_FOUND"), (8, "STRUCTURE_EXISTS"), (9, "IMPORT_TYPE_UNKNOWN"),
        (10, "SERVICE_CODE_RESERVED"),
    ]
    assert all(r["raison"] for r in report["rejets"])
    assert (report["progression"], report["nomFichier"]) == (1.0, "referentiel.csv")
    structure = await api.client.get(f"/v1/structures/{a}", headers=api.operator())
    assert (structure.json()["typeStructure"], structure.json()["version"]) == ("PUBLIQUE", 1)
    services = await api.client.get(f"/v1/structures/{a}/services", headers=api.operator())
    assert [s["codeService"] for s in services.json()["listeServices"]] == [
        "COMPTA", "FACTURES_PUBLIQUES"
    ]
    assert await api.db["structures"].find_one({"_id": b}) is None
    events = await api.events_of(Topic.STRUCTURES, a, lambda evs: len(evs) >= 3)
    assert [e.event_type for e in events] == [
        "structure.created", "structure.service_created", "structure.service_created"
    ]
    assert {e.correlation_id for e in events} == {events[0].correlation_id}
    snapshots = await api.events_of(Topic.DIRECTORY, a, lambda evs: evs)
    assert len(snapshots[0].payload["services"]) == 2  # one snapshot of the final state

    again = await _import(api, content)
    assert again["lignes"] == {"traitees": 10, "creees": 0, "modifiees": 0, "inchangees": 3,
                               "rejetees": 7}
    assert (await api.db["structures"].find_one({"_id": a}))["version"] == 1

    changed = content.replace("COMMUNE A;Ervy", "COMMUNE A;Troyes")
    third = await _import(api, changed)
    assert (third["lignes"]["modifiees"], third["lignes"]["inchangees"]) == (1, 2)
    assert (await api.db["structures"].find_one({"_id": a}))["version"] == 2


async def test_an_unusable_header_fails_the_import_and_writes_nothing(api):
    report = await _import(api, "identifiant;couleur\n20007104100046;bleu\n")
    assert report["statut"] == "ECHEC"
    assert report["erreur"]["code"] == "IMPORT_HEADER_INVALID"
    assert report["erreur"]["details"]["colonnesInconnues"] == ["couleur"]
    assert await api.db["structures"].find_one({"_id": "20007104100046"}) is None
    empty = await _import(api, b"")
    assert empty["statut"] == "ECHEC"


async def test_a_directory_export_imports_back_unchanged(api):
    content, (a, _) = _file(api, await api.create_private("gp-export"))
    await _import(api, content)
    structures = await api.client.get("/v1/annuaire", params={"format": "csv"},
                                      headers=api.user("anyone"))
    assert structures.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(structures.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["identifiant", "typeIdentifiant", "typeStructure", "statut"]
    mine = [r for r in rows if r[0] == a]
    assert mine and mine[0][2] == "PUBLIQUE"
    services = await api.client.get("/v1/annuaire", params={"format": "csv",
                                                            "feuille": "services"},
                                    headers=api.user("anyone"))
    service_rows = list(csv.reader(io.StringIO(services.text.lstrip("\ufeff")), delimiter=";"))
    assert {r[1] for r in service_rows if r[0] == a} == {"COMPTA", "FACTURES_PUBLIQUES"}

    public_only = "\r\n".join(
        ";".join(r) for r in [rows[0]] + [r for r in rows[1:] if r[2] == "PUBLIQUE"]
    )
    report = await _import(api, ("\ufeff" + public_only).encode())
    assert report["lignes"]["creees"] == 0 and report["lignes"]["modifiees"] == 0
    assert report["lignes"]["inchangees"] == report["lignes"]["traitees"]

    as_json = await api.client.get("/v1/annuaire", params={"format": "json",
                                                           "feuille": "services"},
                                   headers=api.user("anyone"))
    entries = json.loads(as_json.text)
    compta = next(e for e in entries if e["identifiant"] == a and e["codeService"] == "COMPTA")
    assert compta == {"identifiant": a, "codeService": "COMPTA", "libelle": "Comptabilité",
                      "description": None, "dateDebutActivation": "2025-02-01",
                      "dateFinActivation": None, "numeroEJDoitEtreRenseigne": False,
                      "statut": "ACTIF"}
