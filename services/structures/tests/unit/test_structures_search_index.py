"""The in-memory search answers as the database query does (matching, order, paging)."""

from datetime import UTC, datetime

from chorale_structures.domain.structure_search import (
    ListedStructure,
    SearchCriteria,
    SearchIndex,
    matches,
    ordered,
)


def row(identifiant: str, version: int = 1, **fields) -> ListedStructure:
    return ListedStructure(identifiant=identifiant, version=version, **fields)


def index_of(*rows: ListedStructure) -> SearchIndex:
    index = SearchIndex()
    for r in rows:
        index.put(r)
    return index


def found(index: SearchIndex, *args) -> tuple[int, list[str]]:
    total, rows = index.search(*args)
    return total, [r.identifiant for r in rows]


MAIRIE = row("1", raisonSociale="Mairie de Sète", ville="SÈTE", codePostal="34200",
             typeStructure="PUBLIQUE", statut="ACTIVE")


def test_raison_sociale_and_ville_contain_the_text_whatever_its_case() -> None:
    assert matches(MAIRIE, SearchCriteria(raisonSociale="  de sète "))
    assert matches(MAIRIE, SearchCriteria(ville="sè"))
    assert not matches(MAIRIE, SearchCriteria(raisonSociale="Mairie de Sete"))
    assert not matches(row("2"), SearchCriteria(ville="a"))  # no ville: no match


def test_code_postal_is_a_prefix() -> None:
    assert matches(MAIRIE, SearchCriteria(codePostal="34"))
    assert not matches(MAIRIE, SearchCriteria(codePostal="4200"))
    assert not matches(row("2"), SearchCriteria(codePostal="3"))


def test_type_and_statut_are_equalities() -> None:
    assert matches(MAIRIE, SearchCriteria(typeStructure="PUBLIQUE", statut="ACTIVE"))
    assert not matches(MAIRIE, SearchCriteria(statut="INACTIVE"))
    assert not matches(MAIRIE, SearchCriteria(typeStructure="PRIVEE"))


def test_identifiant_ignores_spaces_and_stays_within_the_visible_structures() -> None:
    index = index_of(row("12345678900012", raisonSociale="A"), row("2", raisonSociale="B"))
    assert found(index, SearchCriteria(identifiant="123 456 789 00012"),
                        "raisonSociale", False, 0, 20) == (1, ["12345678900012"])
    assert found(index, SearchCriteria(identifiant="12345678900012", restrict_to=frozenset({"2"})),
                        "raisonSociale", False, 0, 20) == (0, [])
    assert found(index, SearchCriteria(restrict_to=frozenset({"2", "unknown"})),
                        "raisonSociale", False, 0, 20) == (1, ["2"])
    assert found(index, SearchCriteria(restrict_to=frozenset()),
                        "raisonSociale", False, 0, 20) == (0, [])


def test_order_puts_missing_values_first_and_breaks_ties_by_identifiant() -> None:
    rows = [row("c", raisonSociale="B"), row("a", raisonSociale="B"), row("b"),
            row("d", raisonSociale="A")]
    assert [r.identifiant for r in ordered(rows, "raisonSociale", False)] == ["b", "d", "a", "c"]
    # descending on the field, ties still by identifiant ascending (the query's second key)
    assert [r.identifiant for r in ordered(rows, "raisonSociale", True)] == ["a", "c", "d", "b"]
    assert [r.identifiant for r in ordered(rows, "identifiant", True)] == ["d", "c", "b", "a"]


def test_order_by_creation_date() -> None:
    rows = [row("a", dateCreation=datetime(2026, 2, 1, tzinfo=UTC)),
            row("b", dateCreation=datetime(2026, 1, 1, tzinfo=UTC))]
    assert [r.identifiant for r in ordered(rows, "dateCreation", False)] == ["b", "a"]


def test_pages_and_total() -> None:
    index = index_of(*(row(f"{i:02d}", raisonSociale=f"S{i:02d}") for i in range(45)))
    assert found(index, SearchCriteria(), "raisonSociale", False, 40, 20) == (
        45, ["40", "41", "42", "43", "44"])
    total, page = found(index, SearchCriteria(raisonSociale="s1"), "raisonSociale", True, 0, 3)
    assert (total, page) == (10, ["19", "18", "17"])


def test_a_write_changes_the_next_answer_and_an_older_version_never_replaces_a_newer() -> None:
    index = index_of(row("1", raisonSociale="Ancien nom"), row("2", raisonSociale="Maison"))
    assert found(index, SearchCriteria(), "raisonSociale", False, 0, 20)[1] == ["1", "2"]
    index.put(row("1", version=2, raisonSociale="Zoo"))
    assert found(index, SearchCriteria(), "raisonSociale", False, 0, 20)[1] == ["2", "1"]
    index.put(row("1", version=1, raisonSociale="Ancien nom"))  # a reload that read it earlier
    assert found(index, SearchCriteria(raisonSociale="zoo"), "raisonSociale", False, 0, 20) \
        == (1, ["1"])


def test_a_row_from_a_stored_document() -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    assert ListedStructure.of({"_id": "1", "version": 3, "raisonSociale": "A",
                               "dateCreation": created, "services": []}) == row(
        "1", version=3, raisonSociale="A", dateCreation=created)


def test_the_directory_box_finds_an_identifiant_a_raison_sociale_or_a_libelle() -> None:
    chaource = row("20007104100046", raisonSociale="CC DU CHAOURCOIS", libelleStructure=
                   "Communaute Chaource")
    assert matches(chaource, SearchCriteria(texte="200 071 041 00046"))
    assert matches(chaource, SearchCriteria(texte="chaourcois"))
    assert matches(chaource, SearchCriteria(texte="communauté chaource".replace("é", "e")))
    assert not matches(chaource, SearchCriteria(texte="2000710410004"))  # an identifiant is whole
    assert not matches(row("2", raisonSociale="Autre"), SearchCriteria(texte="chaource"))
    index = index_of(chaource, row("2", raisonSociale="Autre"))
    assert found(index, SearchCriteria(texte="Communaute"), "raisonSociale", False, 0, 20) == (
        1, ["20007104100046"])
