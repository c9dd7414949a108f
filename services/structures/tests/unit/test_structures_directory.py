import csv
import io
from datetime import date

from chorale_contracts.events.directory import DirectorySnapshot
from chorale_structures.domain.csv_import import ImportOutcome, classify, iter_import_rows
from chorale_structures.domain.directory import (
    SERVICE_COLUMNS,
    STRUCTURE_COLUMNS,
    directory_csv_rows,
    routing_snapshot,
)
from chorale_structures.domain.services import deactivate_service, new_service
from chorale_structures.domain.structures import new_private_structure, new_public_structure

TODAY = date(2025, 1, 1)


def _public_with_services():
    created = new_public_structure(
        {
            "identifiant": "20007104100046",
            "raisonSociale": "CC DU CHAOURCOIS",
            "adresse": "8 BD DES GRANDS FOSSES",
            "codePostal": "10130",
            "ville": "ERVY-LE-CHATEL",
            "codeServiceDoitEtreRenseigne": True,
            "presenceMOA": "AVEC_MOA",
        },
        today=TODAY,
    )
    structure = created.structure
    moa = new_service(
        structure,
        {
            "codeService": "0123",
            "libelle": "MOA",
            "dateDebutActivation": "2022-01-25",
            "dateFinActivation": "2022-07-29",
            "numeroEJDoitEtreRenseigne": True,
        },
    ).state
    compta = new_service(
        structure,
        {
            "codeService": "COMPTA",
            "libelle": "Comptabilité",
            "description": "Fonctionnement",
            "dateDebutActivation": TODAY,
        },
    ).state
    return structure, [compta, created.reserved_service, moa]


def test_routing_snapshot_carries_everything_intake_routes_on():
    structure, services = _public_with_services()
    snapshot = routing_snapshot(structure, services, version=7)
    assert DirectorySnapshot.model_validate(snapshot).model_dump(mode="json") == snapshot
    assert {
        k: snapshot[k]
        for k in (
            "identifiant",
            "typeIdentifiant",
            "typeStructure",
            "statut",
            "raisonSociale",
            "version",
        )
    } == {
        "identifiant": "20007104100046",
        "typeIdentifiant": "SIRET",
        "typeStructure": "PUBLIQUE",
        "statut": "ACTIVE",
        "raisonSociale": "CC DU CHAOURCOIS",
        "version": 7,
    }
    assert snapshot["parametres"]["codeServiceDoitEtreRenseigne"] is True
    assert snapshot["parametres"]["presenceMOA"] == "AVEC_MOA"
    assert [s["codeService"] for s in snapshot["services"]] == [
        "0123",
        "COMPTA",
        "FACTURES_PUBLIQUES",
    ]
    assert snapshot["services"][0] == {
        "codeService": "0123",
        "libelle": "MOA",
        "statut": "ACTIF",
        "dateDebutActivation": "2022-01-25",
        "dateFinActivation": "2022-07-29",
        "numeroEJDoitEtreRenseigne": True,
    }


def test_snapshot_reflects_a_service_deactivation_and_is_deterministic():
    structure, services = _public_with_services()
    before = routing_snapshot(structure, services, version=1)
    assert routing_snapshot(structure, list(reversed(services)), version=1) == before
    inactive, _ = deactivate_service(structure, services[0])
    after = routing_snapshot(structure, [inactive, *services[1:]], version=2)
    statut = {s["codeService"]: s["statut"] for s in after["services"]}
    assert statut == {"0123": "ACTIF", "COMPTA": "INACTIF", "FACTURES_PUBLIQUES": "ACTIF"}


def test_private_structure_snapshot_has_default_parameters():
    structure, _ = new_private_structure(
        {"identifiant": "21750001600019", "raisonSociale": "Fournisseur"}, creator_id="u"
    )
    snapshot = routing_snapshot(structure, [], version=1)
    assert snapshot["typeStructure"] == "PRIVEE" and snapshot["services"] == []
    assert snapshot["parametres"]["codeServiceDoitEtreRenseigne"] is False


def _sheets(entries):
    sheets: dict[str, list[list[str]]] = {"structures": [], "services": []}
    for sheet, row in directory_csv_rows(entries):
        sheets[sheet].append(row)
    return sheets


def test_csv_export_has_two_sheets_headers_first():
    structure, services = _public_with_services()
    sheets = _sheets([(structure, services)])
    assert sheets["structures"][0] == list(STRUCTURE_COLUMNS)
    assert sheets["services"][0] == list(SERVICE_COLUMNS)
    assert len(sheets["structures"]) == 2 and len(sheets["services"]) == 4
    row = dict(zip(STRUCTURE_COLUMNS, sheets["structures"][1], strict=True))
    assert (
        row["identifiant"],
        row["codeServiceDoitEtreRenseigne"],
        row["recevoirDonneesViaEDI"],
        row["libelleStructure"],
        row["presenceMOA"],
    ) == (
        "20007104100046",
        "oui",
        "non",
        "",
        "AVEC_MOA",
    )
    moa = dict(zip(SERVICE_COLUMNS, sheets["services"][1], strict=True))
    assert moa == {
        "identifiant": "20007104100046",
        "codeService": "0123",
        "libelle": "MOA",
        "description": "",
        "dateDebutActivation": "2022-01-25",
        "dateFinActivation": "2022-07-29",
        "numeroEJDoitEtreRenseigne": "oui",
        "statut": "ACTIF",
    }


def test_csv_export_hides_non_diffusible_contact_details():
    structure, _ = new_private_structure(
        {
            "identifiant": "21750001600019",
            "raisonSociale": "M. Dupont",
            "nonDiffusibleInsee": True,
            "adresse": "1 rue X",
            "telephone": "0102030405",
            "ville": "PARIS",
            "codePostal": "75001",
        },
        creator_id="u",
    )
    row = dict(zip(STRUCTURE_COLUMNS, _sheets([(structure, [])])["structures"][1], strict=True))
    assert (row["adresse"], row["telephone"], row["ville"]) == ("", "", "PARIS")


def test_exported_sheets_import_back_unchanged():
    structure, services = _public_with_services()
    sheets = _sheets([(structure, services)])
    for name in ("structures", "services"):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";").writerows(sheets[name])
        rows = list(iter_import_rows(io.StringIO(buffer.getvalue())))
        if name == "structures":
            [row] = rows
            assert classify(structure, row) is ImportOutcome.UNCHANGED
        else:
            by_code = {s.codeService: s for s in services}
            outcomes = {}
            for row in rows:
                if hasattr(row, "codeService"):
                    outcomes[row.codeService] = classify(by_code[row.codeService], row)
                else:
                    outcomes["rejected"] = row.code
            assert outcomes == {
                "0123": ImportOutcome.UNCHANGED,
                "COMPTA": ImportOutcome.UNCHANGED,
                "rejected": "SERVICE_CODE_RESERVED",  # FACTURES_PUBLIQUES is platform-managed
            }


def test_directory_entries_are_the_csv_lines_typed_for_json():
    from chorale_structures.domain.directory import directory_entries

    structure, services = _public_with_services()
    secret = structure.model_copy(update={"nonDiffusibleInsee": True, "telephone": "0102030405"})
    [entry] = directory_entries([(secret, services)], "structures")
    assert list(entry) == list(STRUCTURE_COLUMNS)
    assert (entry["codeServiceDoitEtreRenseigne"], entry["presenceMOA"]) == (True, "AVEC_MOA")
    assert (entry["adresse"], entry["telephone"], entry["ville"]) == (
        None, None, "ERVY-LE-CHATEL"
    )
    rows = list(directory_entries([(structure, services)], "services"))
    assert [r["codeService"] for r in rows] == ["0123", "COMPTA", "FACTURES_PUBLIQUES"]
    assert rows[0] == {
        "identifiant": "20007104100046", "codeService": "0123", "libelle": "MOA",
        "description": None, "dateDebutActivation": "2022-01-25",
        "dateFinActivation": "2022-07-29", "numeroEJDoitEtreRenseigne": True, "statut": "ACTIF",
    }
