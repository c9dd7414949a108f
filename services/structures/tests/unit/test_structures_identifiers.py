import random

import pytest

from chorale_structures.domain.errors import DomainError, ErrorCode
from chorale_structures.domain.identifiers import TypeIdentifiant, validate_identifier


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _code(type_: str, raw: str) -> ErrorCode:
    with pytest.raises(DomainError) as info:
        validate_identifier(type_, raw)
    return info.value.code


# --- SIRET -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("20007104100046", "20007104100046"),  # CC du Chaourcois (webinar)
        ("217 500 016 00019", "21750001600019"),  # Ville de Paris, typed with spaces
        ("211.300.553.00016", "21130055300016"),  # Ville de Marseille, with dots
        (" 26750045200011 ", "26750045200011"),  # AP-HP
    ],
)
def test_valid_siret_is_normalised(raw, expected):
    assert validate_identifier(TypeIdentifiant.SIRET, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "20007104100047",  # last digit changed: Luhn fails
        "12345678901234",
        "2000710410004",  # 13 digits
        "200071041000466",  # 15 digits
        "2000710410004A",
        "",
    ],
)
def test_invalid_siret_is_refused_with_siret_invalid(raw):
    assert _code("SIRET", raw) is ErrorCode.SIRET_INVALID


def test_siret_error_says_why_in_french():
    with pytest.raises(DomainError) as info:
        validate_identifier("SIRET", "20007104100047")
    assert "clé de contrôle" in info.value.message
    assert info.value.details["identifiant"] == "20007104100047"


@pytest.mark.parametrize(
    "siret",
    [
        "35600000000048",  # La Poste head office: keeps the Luhn key
        "35600000000001",  # computed: digit sum 15, Luhn fails
        "35600000049837",  # computed: digit sum 45, Luhn fails
        "35600000001023",  # computed: digit sum 20, Luhn fails
    ],
)
def test_la_poste_sirets_are_valid(siret):
    assert not (siret != "35600000000048" and _luhn_ok(siret))  # the exception is exercised
    assert validate_identifier("SIRET", siret) == siret


def test_la_poste_siret_luhn_valid_but_digit_sum_not_multiple_of_5_is_refused():
    siret = "35600000000014"
    assert _luhn_ok(siret) and sum(map(int, siret)) % 5 != 0
    assert _code("SIRET", siret) is ErrorCode.SIRET_INVALID


def test_la_poste_rule_matches_an_independent_implementation_for_1000_establishments():
    for nic in range(1000):
        siret = f"356000000{nic:05d}"
        expected = siret == "35600000000048" or sum(map(int, siret)) % 5 == 0
        try:
            validate_identifier("SIRET", siret)
            accepted = True
        except DomainError:
            accepted = False
        assert accepted is expected, siret


def test_ordinary_siret_rule_matches_luhn_on_random_numbers():
    rng = random.Random(20240101)
    checked_valid = 0
    for _ in range(2000):
        siren = f"{rng.randrange(10**8):08d}"
        siren += next(d for d in "0123456789" if _luhn_ok(siren + d))
        if siren == "356000000":
            continue
        siret = siren + f"{rng.randrange(10**5):05d}"
        expected = _luhn_ok(siret)
        try:
            validate_identifier("SIRET", siret)
            accepted = True
        except DomainError:
            accepted = False
        assert accepted is expected, siret
        checked_valid += accepted
    assert checked_valid > 100  # both branches were exercised


# --- other types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("BE0403170701", "BE0403170701"),
        ("ATU13585627", "ATU13585627"),
        ("EL094259216", "EL094259216"),
        ("GR094259216", "EL094259216"),  # Greece is EL in VAT numbers
        ("NL004495445B01", "NL004495445B01"),
    ],
)
def test_eu_vat_outside_france(raw, expected):
    assert validate_identifier("UE_HORS_FRANCE", raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "DE136695977",  # check digit
        "FR40303265045",  # valid French VAT: France is not "hors France"
        "XI980780684",  # Northern Ireland is not a member state
        "GB980780684",
        "136695976",  # no country prefix
        "",
    ],
)
def test_eu_vat_outside_france_refusals(raw):
    assert _code("UE_HORS_FRANCE", raw) is ErrorCode.IDENTIFIER_INVALID


@pytest.mark.parametrize(
    "raw, expected",
    [("1234567.001", "1234567001"), ("1234567 001", "1234567001"), ("1234567001", "1234567001")],
)
def test_ridet(raw, expected):
    assert validate_identifier("RIDET", raw) == expected


@pytest.mark.parametrize("raw", ["123456.001", "12345678.001", "1234567.01", "A234567.001", ""])
def test_ridet_refusals(raw):
    assert _code("RIDET", raw) is ErrorCode.IDENTIFIER_INVALID


@pytest.mark.parametrize(
    "raw, expected",
    [("A12345", "A12345"), ("a12345.001", "A12345001"), ("123456 002", "123456002")],
)
def test_tahiti(raw, expected):
    assert validate_identifier("TAHITI", raw) == expected


@pytest.mark.parametrize("raw", ["A1234", "A123456", "A12345.01", "A12345-0012", "A1234É"])
def test_tahiti_refusals(raw):
    assert _code("TAHITI", raw) is ErrorCode.IDENTIFIER_INVALID


@pytest.mark.parametrize("type_", ["HORS_UE", "AUTRE"])
def test_free_identifiers_are_normalised(type_):
    assert validate_identifier(type_, " us-12 345/a ") == "US-12345/A"
    assert validate_identifier(type_, "X" * 50) == "X" * 50


@pytest.mark.parametrize("raw", ["", "   ", "X" * 51, "-12", "ABC;DEF", "ÉCOLE"])
@pytest.mark.parametrize("type_", ["HORS_UE", "AUTRE"])
def test_free_identifier_refusals(type_, raw):
    assert _code(type_, raw) is ErrorCode.IDENTIFIER_INVALID


def test_unknown_type_is_a_validation_error():
    assert _code("DUNS", "123") is ErrorCode.VALIDATION_FAILED
