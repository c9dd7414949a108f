import io
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
from stdnum import luhn

from chorale_structures.domain.csv_import import (
    RowRejection,
    ServiceRow,
    StructureRow,
    iter_import_rows,
)
from chorale_structures.domain.errors import DomainError, ErrorCode

DOCS = Path(__file__).parents[2] / "docs"
HEADER = (
    "type;identifiant;raisonSociale;ville;codePostal;codeServiceDoitEtreRenseigne;"
    "gestionNumeroEJOuCodeService;presenceMOA;statut;codeService;libelle;"
    "dateDebutActivation;dateFinActivation;numeroEJDoitEtreRenseigne"
)
GOOD_STRUCTURE = "STRUCTURE;20007104100046;CC DU CHAOURCOIS;ERVY;10130;oui;non;AVEC_MOA;;;;;;non"
GOOD_SERVICE = "SERVICE;20007104100046;;;;;;;ACTIF;compta;Comptabilité;01/02/2025;;oui"


def _parse(*lines: str, header: str = HEADER):
    return list(iter_import_rows(io.StringIO("\n".join([header, *lines]) + "\n")))


def _header_error(text: str) -> DomainError:
    with pytest.raises(DomainError) as info:
        list(iter_import_rows(io.StringIO(text)))
    assert info.value.code is ErrorCode.IMPORT_HEADER_INVALID
    return info.value


# --- good lines ----------------------------------------------------------------------------


def test_structure_and_service_lines():
    structure, service = _parse(GOOD_STRUCTURE, GOOD_SERVICE)
    assert isinstance(structure, StructureRow) and isinstance(service, ServiceRow)
    assert (structure.line, structure.identifiant, structure.typeIdentifiant) == (
        2,
        "20007104100046",
        "SIRET",
    )
    assert structure.values == {
        "raisonSociale": "CC DU CHAOURCOIS",
        "ville": "ERVY",
        "codePostal": "10130",
        "codeServiceDoitEtreRenseigne": True,
        "gestionNumeroEJOuCodeService": False,
        "numeroEJDoitEtreRenseigne": False,
        "presenceMOA": "AVEC_MOA",
    }  # statut left empty: not managed by this line
    assert (service.line, service.identifiant, service.codeService) == (
        3,
        "20007104100046",
        "COMPTA",
    )
    assert service.values == {
        "libelle": "Comptabilité",
        "dateDebutActivation": date(2025, 2, 1),
        "dateFinActivation": None,
        "numeroEJDoitEtreRenseigne": True,
        "statut": "ACTIF",
    }


def test_documented_example_file_is_valid():
    with (DOCS / "import-example.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(iter_import_rows(handle))
    assert [type(r).__name__ for r in rows] == [
        "StructureRow",
        "ServiceRow",
        "ServiceRow",
        "StructureRow",
        "ServiceRow",
        "StructureRow",
    ]
    assert [r.line for r in rows] == [2, 3, 4, 6, 7, 8]  # line 4 holds a two-line description
    assert rows[2].values["description"] == "Factures de fonctionnement;\nhors marchés de travaux"


def test_columns_absent_from_the_header_are_not_managed():
    [row] = _parse("20007104100046;Mairie", header="identifiant;raisonSociale")
    assert row.values == {"raisonSociale": "Mairie"}


def test_empty_cells_of_present_columns_mean_empty():
    [row] = _parse("STRUCTURE;20007104100046;Mairie;;;;;;;;;;;")
    assert row.values["ville"] is None and row.values["codePostal"] is None
    assert row.values["codeServiceDoitEtreRenseigne"] is False
    assert row.values["presenceMOA"] == "SANS_MOA"
    assert "statut" not in row.values


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("OUI", True),
        ("x", True),
        ("1", True),
        ("Vrai", True),
        ("non", False),
        ("", False),
        ("faux", False),
    ],
)
def test_boolean_spellings(cell, expected):
    [row] = _parse(f"STRUCTURE;20007104100046;Mairie;;;{cell};;;;;;;;")
    assert row.values["codeServiceDoitEtreRenseigne"] is expected


def test_header_is_case_insensitive_and_trailing_separators_are_ignored():
    [row] = _parse("structure;20007104100046;Mairie;;", header="TYPE;Identifiant;RAISONSOCIALE;;")
    assert isinstance(row, StructureRow)


def test_blank_lines_are_skipped_and_line_numbers_stay_physical():
    rows = _parse("", GOOD_STRUCTURE, ";;;;", "", GOOD_SERVICE)
    assert [r.line for r in rows] == [3, 6]


def test_other_identifier_types():
    rows = _parse(
        "RIDET;1234567.001;Province Sud",
        "TAHITI;a12345;Commune de Papeete",
        header="typeIdentifiant;identifiant;raisonSociale",
    )
    assert [(r.typeIdentifiant, r.identifiant) for r in rows] == [
        ("RIDET", "1234567001"),
        ("TAHITI", "A12345"),
    ]


# --- bad lines -----------------------------------------------------------------------------


ST = "STRUCTURE;20007104100046;"
SV = "SERVICE;20007104100046;;;;;;;"
V = ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize(
    "line, code, in_reason",
    [
        ("STRUCTURE;20007104100047;X;;;;;;;;;;;", ErrorCode.SIRET_INVALID, "clé de contrôle"),
        ("STRUCTURE;;X;;;;;;;;;;;", V, "identifiant"),
        (ST + ";;;;;;;;;;;", V, "raisonSociale"),
        (ST + "X;;;peut-être;;;;;;;;", V, "oui ou non"),
        (ST + "X;;1013;;;;;;;;;", V, "codePostal"),
        (ST + "X;;;;;SOUVENT;;;;;;", V, "presenceMOA"),
        (ST + "X;;;;;;FERMEE;;;;;", V, "statut"),
        (ST + "X;;;oui;oui;;;;;;;", ErrorCode.PARAMETERS_INCOHERENT, "engagement"),
        (ST + "X;;;;;;;;;;;oui;oui", ErrorCode.IMPORT_LINE_MALFORMED, "cellules"),
        ("ETABLISSEMENT;20007104100046;X;;;;;;;;;;;", ErrorCode.IMPORT_TYPE_UNKNOWN, "STRUCTURE"),
        (SV + ";;Sans code;2025-01-01;;", V, "codeService"),
        (SV + ";COMPTA 1;L;2025-01-01;;", ErrorCode.SERVICE_CODE_INVALID, "code service"),
        (SV + ";factures_publiques;L;2025-01-01;;", ErrorCode.SERVICE_CODE_RESERVED, "réservé"),
        (SV + ";COMPTA;;2025-01-01;;", V, "libelle"),
        (SV + ";COMPTA;L;;;", V, "dateDebutActivation"),
        (SV + ";COMPTA;L;2025-13-01;;", V, "date inexistante"),
        (SV + ";COMPTA;L;le 1er mai;;", V, "AAAA-MM-JJ"),
        (SV + ";COMPTA;L;2025-06-01;31/05/2025;", ErrorCode.DATES_INCOHERENT, "fin"),
        (SV + "INACTIVE;COMPTA;L;2025-06-01;;", V, "statut"),
        (
            "SERVICE;2000710410004;;;;;;;;COMPTA;L;2025-06-01;;",
            ErrorCode.SIRET_INVALID,
            "14 chiffres",
        ),
    ],
)
def test_each_kind_of_bad_line_is_rejected_alone(line, code, in_reason):
    rejection, after = _parse(line, GOOD_STRUCTURE)
    assert isinstance(rejection, RowRejection)
    assert (rejection.line, rejection.code) == (2, code)
    assert in_reason in rejection.reason
    assert rejection.identifiant == (line.split(";")[1] or None)
    assert isinstance(after, StructureRow) and after.line == 3


def test_private_structures_are_not_imported():
    [rejection] = _parse(
        "20007104100046;X;PRIVEE", header="identifiant;raisonSociale;typeStructure"
    )
    assert rejection.code is ErrorCode.VALIDATION_FAILED
    assert "publiques" in rejection.reason


def test_unreadable_csv_record_is_rejected_and_parsing_goes_on():
    huge = "STRUCTURE;20007104100046;" + "x" * 200_000 + ";;;;;;;;;;;"
    rejection, after = _parse(huge, GOOD_STRUCTURE)
    assert (rejection.line, rejection.code) == (2, ErrorCode.IMPORT_LINE_MALFORMED)
    assert after.line == 3


# --- encodings and delimiters ----------------------------------------------------------------


def test_utf8_bom_in_text():
    [row] = list(iter_import_rows(io.StringIO(f"\ufeff{HEADER}\n{GOOD_STRUCTURE}\n")))
    assert isinstance(row, StructureRow)


def test_bytes_lines_with_bom_crlf_and_an_invalid_line():
    data = (
        b"\xef\xbb\xbf"
        + HEADER.encode()
        + b"\r\n"
        + GOOD_STRUCTURE.encode()
        + b"\r\n"
        + "STRUCTURE;21750001600019;Mairie d'\xe9t\xe9;;;;;;;;;;;\r\n".encode("latin-1")
        + GOOD_SERVICE.encode()
        + b"\r\n"
    )
    rows = list(iter_import_rows(io.BytesIO(data)))
    assert [type(r).__name__ for r in rows] == ["StructureRow", "RowRejection", "ServiceRow"]
    assert (rows[1].line, rows[1].code, rows[1].identifiant) == (
        3,
        ErrorCode.IMPORT_LINE_MALFORMED,
        "21750001600019",
    )
    assert "UTF-8" in rows[1].reason
    assert rows[2].values["libelle"] == "Comptabilité"


def test_comma_delimiter_is_sniffed_from_the_header():
    text = (
        "type,identifiant,raisonSociale,adresse\n"
        'STRUCTURE,20007104100046,"CC DU CHAOURCOIS, ERVY","8 BD DES GRANDS FOSSES; BP 1"\n'
    )
    [row] = list(iter_import_rows(io.StringIO(text)))
    assert row.values == {
        "raisonSociale": "CC DU CHAOURCOIS, ERVY",
        "adresse": "8 BD DES GRANDS FOSSES; BP 1",
    }


def test_semicolon_wins_when_the_header_has_one():
    [row] = list(iter_import_rows(io.StringIO("identifiant;raisonSociale\n20007104100046;A, B\n")))
    assert row.values["raisonSociale"] == "A, B"


# --- header ----------------------------------------------------------------------------------


def test_empty_file():
    _header_error("")
    _header_error("\n\n")


def test_unknown_column_rejects_the_whole_file():
    err = _header_error("type;identifiant;raison_sociale\nSTRUCTURE;20007104100046;X\n")
    assert err.details["colonnesInconnues"] == ["raison_sociale"]


def test_duplicated_column():
    err = _header_error("identifiant;raisonSociale;RaisonSociale\n")
    assert err.details["colonnesEnDouble"] == ["raisonSociale"]


def test_identifiant_column_is_required():
    _header_error("type;raisonSociale\nSTRUCTURE;X\n")


def test_mixed_columns_need_a_type_column():
    _header_error("identifiant;raisonSociale;codeService\n")


def test_header_without_type_column_is_a_services_sheet():
    [row] = _parse(
        "20007104100046;DSI;Informatique;2025-01-01",
        header="identifiant;codeService;libelle;dateDebutActivation",
    )
    assert isinstance(row, ServiceRow) and row.codeService == "DSI"


# --- streaming -------------------------------------------------------------------------------


def test_rows_come_as_lines_are_read():
    consumed = []

    def lines():
        yield HEADER + "\n"
        for i in range(1_000_000):
            consumed.append(i)
            yield GOOD_STRUCTURE + "\n"

    rows = iter_import_rows(lines())
    first = next(rows)
    assert first.line == 2
    assert len(consumed) <= 2
    next(rows)
    assert len(consumed) <= 3


def _sirets(count: int) -> list[str]:
    result = []
    for n in range(count):
        siren = f"{10_000_000 + n:08d}"
        siren += luhn.calc_check_digit(siren)
        result.append(siren + "0001" + luhn.calc_check_digit(siren + "0001"))
    return result


def test_100k_line_file_is_parsed_with_bounded_memory():
    sirets = _sirets(20_000)  # allocated before measuring

    def lines():
        yield HEADER + "\n"
        for i in range(100_000):
            siret = sirets[i % len(sirets)]
            if i % 5 == 4:
                yield f"SERVICE;{siret};;;;;;;ACTIF;S-{i};Service {i};2025-01-01;;non\n"
            else:
                yield (
                    f"STRUCTURE;{siret};Commune numéro {i};VILLE {i};75001;"
                    f"{'oui' if i % 2 else 'non'};non;SANS_MOA;;;;;;\n"
                )

    counts = {"StructureRow": 0, "ServiceRow": 0, "RowRejection": 0}
    tracemalloc.start()
    try:
        for row in iter_import_rows(lines()):
            counts[type(row).__name__] += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts == {"StructureRow": 80_000, "ServiceRow": 20_000, "RowRejection": 0}
    # The file is ~10 MB and holding its lines costs ~17 MB; the parser measures ~2 MB.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
