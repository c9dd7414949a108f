import pytest

from chorale_structures.domain.bank import (
    CoordonneeBancaire,
    StatutCoordonnee,
    TypeCoordonnee,
    deactivate_bank_details,
    iban_from_rib,
    mask_iban,
    new_bank_details,
    rib_key,
    update_bank_details,
    validate_bic,
    validate_iban,
    validate_rib,
)
from chorale_structures.domain.errors import DomainError, ErrorCode

SIRET = "20007104100046"


def _error(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


# --- RIB ---------------------------------------------------------------------------------


def _reference_key(banque: str, guichet: str, compte: str) -> str:
    """Independent RIB key: letters by the published table, then the 97 formula."""
    table = {
        **dict.fromkeys("AJ", "1"),
        **dict.fromkeys("BKS", "2"),
        **dict.fromkeys("CLT", "3"),
        **dict.fromkeys("DMU", "4"),
        **dict.fromkeys("ENV", "5"),
        **dict.fromkeys("FOW", "6"),
        **dict.fromkeys("GPX", "7"),
        **dict.fromkeys("HQY", "8"),
        **dict.fromkeys("IRZ", "9"),
    }
    compte = "".join(table.get(c, c) for c in compte)
    return f"{97 - (89 * int(banque) + 15 * int(guichet) + 3 * int(compte)) % 97:02d}"


@pytest.mark.parametrize(
    "banque, guichet, compte, cle",
    [
        ("30006", "00001", "12345678901", "89"),
        ("20041", "01005", "0500013M026", "06"),  # account with a letter (La Banque Postale)
        ("10107", "00123", "ABCDEFGHIJK", None),
        ("12345", "67890", "STUVWXYZ123", None),
    ],
)
def test_rib_key(banque, guichet, compte, cle):
    expected = cle or _reference_key(banque, guichet, compte)
    assert rib_key(banque, guichet, compte) == _reference_key(banque, guichet, compte) == expected
    assert validate_rib(banque, guichet, compte.lower(), expected) == (
        banque,
        guichet,
        compte,
        expected,
    )


def test_wrong_rib_key_is_refused():
    err = _error(validate_rib, "30006", "00001", "12345678901", "88")
    assert err.code is ErrorCode.RIB_KEY_INVALID


@pytest.mark.parametrize(
    "parts, field",
    [
        (("3000", "00001", "12345678901", "89"), "codeBanque"),
        (("30006", "0001A", "12345678901", "89"), "codeGuichet"),
        (("30006", "00001", "1234567890", "89"), "numeroCompte"),
        (("30006", "00001", "1234567890-", "89"), "numeroCompte"),
        (("30006", "00001", "12345678901", "8"), "cleRib"),
    ],
)
def test_malformed_rib_is_refused_per_field(parts, field):
    err = _error(validate_rib, *parts)
    assert err.code is ErrorCode.RIB_INVALID
    assert list(err.details["fields"]) == [field]


def test_iban_derived_from_rib():
    assert iban_from_rib("30006", "00001", "12345678901", "89") == "FR7630006000011234567890189"
    # the IBAN registry's French example
    assert iban_from_rib("20041", "01005", "0500013M026", "06") == "FR1420041010050500013M02606"


def test_no_iban_from_an_invalid_rib():
    assert _error(iban_from_rib, "30006", "00001", "12345678901", "11").code is (
        ErrorCode.RIB_KEY_INVALID
    )


# --- IBAN / BIC --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "FR7630006000011234567890189",
        "DE89370400440532013000",
        "BE68539007547034",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "NL91ABNA0417164300",
        "GB29NWBK60161331926819",
        "CH9300762011623852957",
    ],
)
def test_valid_ibans(iban):
    assert validate_iban(iban) == iban


def test_iban_is_normalised():
    assert validate_iban(" fr76 3000 6000 0112 3456 7890 189 ") == "FR7630006000011234567890189"


@pytest.mark.parametrize(
    "iban, reason",
    [
        ("DE89370400440532013001", "clé de contrôle IBAN"),
        ("GB29NWBK60161331926818", "clé de contrôle IBAN"),
        ("DE8937040044053201300", "longueur"),
        ("BE685390075470344", "longueur"),
        ("XX89370400440532013000", "code pays"),
        # ISO check digits right, but the RIB key inside the French BBAN is wrong
        ("FR0630006000011234567890188", "clé nationale"),
        ("", None),
    ],
)
def test_invalid_ibans(iban, reason):
    err = _error(validate_iban, iban)
    assert err.code is ErrorCode.IBAN_INVALID
    if reason:
        assert reason in err.details["raison"]


@pytest.mark.parametrize(
    "bic, expected",
    [
        ("BNPAFRPP", "BNPAFRPP"),
        ("bnpafrppxxx", "BNPAFRPPXXX"),
        ("DEUTDEFF500", "DEUTDEFF500"),
        ("NTSBDEB1", "NTSBDEB1"),
    ],
)
def test_valid_bics(bic, expected):
    assert validate_bic(bic) == expected


@pytest.mark.parametrize("bic", ["BNPAFRP", "BNPAFRPP1", "BNPAFRPP12", "BNPAZZPP", "BNPAFRP_", ""])
def test_invalid_bics(bic):
    assert _error(validate_bic, bic).code is ErrorCode.BIC_INVALID


# --- bank details aggregate --------------------------------------------------------------


def _iban_data(**extra):
    return {
        "idCoordonneeBancaire": "cb-1",
        "nom": "Compte principal",
        "type": "IBAN",
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "cobadeffxxx",
        "idPieceJointe": "pj-1",
        **extra,
    }


def _rib_data(**extra):
    return {
        "idCoordonneeBancaire": "cb-2",
        "nom": "RIB",
        "type": "RIB",
        "codeBanque": "30006",
        "codeGuichet": "00001",
        "numeroCompte": "12345678901",
        "cleRib": "89",
        "idPieceJointe": "pj-2",
        **extra,
    }


def test_iban_details_are_normalised_and_announced_with_a_masked_iban():
    details, events = new_bank_details(SIRET, _iban_data())
    assert details.iban == "DE89370400440532013000"
    assert details.bic == "COBADEFFXXX"
    assert details.pays == "DE"
    assert details.statut is StatutCoordonnee.ACTIF
    [event] = events
    assert event.event_type == "structure.bank_details_added"
    assert event.identifiant == SIRET and event.bankDetailsId == "cb-1"
    assert event.ibanMasked == "DE89**************3000"
    assert "0532013" not in event.model_dump_json()


def test_rib_details_derive_the_french_iban():
    details, _ = new_bank_details(SIRET, _rib_data())
    assert details.type is TypeCoordonnee.RIB
    assert details.iban == "FR7630006000011234567890189"
    assert details.pays == "FR"
    assert details.bic is None  # optional with a RIB


def test_rib_details_with_a_wrong_key_are_refused():
    assert _error(new_bank_details, SIRET, _rib_data(cleRib="12")).code is (
        ErrorCode.RIB_KEY_INVALID
    )


def test_iban_without_bic_is_incomplete():
    err = _error(new_bank_details, SIRET, _iban_data(bic=None))
    assert err.code is ErrorCode.BANK_DETAILS_INCOMPLETE
    assert err.details == {"champ": "bic"}


def test_rib_document_is_required():
    err = _error(new_bank_details, SIRET, _rib_data(idPieceJointe=""))
    assert err.code is ErrorCode.BANK_DETAILS_INCOMPLETE
    assert err.details == {"champ": "idPieceJointe"}


def test_iban_type_refuses_rib_fields():
    err = _error(new_bank_details, SIRET, _iban_data(codeBanque="30006"))
    assert err.code is ErrorCode.VALIDATION_FAILED


def test_bic_country_may_differ_from_iban_country():
    # a French IBAN held at a German neobank: real, so accepted
    details, _ = new_bank_details(
        SIRET, _iban_data(iban="FR7630006000011234567890189", bic="NTSBDEB1")
    )
    assert (details.pays, details.bic[4:6]) == ("FR", "DE")


def test_factor_identifier_is_validated_and_normalised():
    factor = {
        "raisonSociale": "Affacturage SA",
        "pays": "fr",
        "identifiant": "217 500 016 00019",
        "typeIdentifiant": "SIRET",
    }
    details, _ = new_bank_details(SIRET, _iban_data(affactureur=factor))
    assert details.affactureur.identifiant == "21750001600019"
    assert details.affactureur.pays == "FR"
    bad = {**factor, "identifiant": "21750001600018"}
    assert _error(new_bank_details, SIRET, _iban_data(affactureur=bad)).code is (
        ErrorCode.SIRET_INVALID
    )
    incomplete = {k: v for k, v in factor.items() if k != "raisonSociale"}
    err = _error(new_bank_details, SIRET, _iban_data(affactureur=incomplete))
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert "affactureur.raisonSociale" in err.details["fields"]


def test_update_switches_from_rib_to_iban_and_back():
    rib, _ = new_bank_details(SIRET, _rib_data())
    iban, events = update_bank_details(
        SIRET, rib, {"type": "IBAN", "iban": "BE68539007547034", "bic": "GEBABEBB"}
    )
    assert (iban.type, iban.iban, iban.codeBanque, iban.cleRib) == (
        TypeCoordonnee.IBAN,
        "BE68539007547034",
        None,
        None,
    )
    assert events[0].event_type == "structure.bank_details_updated"
    back, _ = update_bank_details(
        SIRET,
        iban,
        {
            "type": "RIB",
            **{
                k: v
                for k, v in _rib_data().items()
                if k in ("codeBanque", "codeGuichet", "numeroCompte", "cleRib")
            },
        },
    )
    assert back.iban == "FR7630006000011234567890189"


def test_update_of_a_rib_rederives_its_iban():
    rib, _ = new_bank_details(SIRET, _rib_data())
    changed, _ = update_bank_details(
        SIRET,
        rib,
        {
            "codeBanque": "20041",
            "codeGuichet": "01005",
            "numeroCompte": "0500013M026",
            "cleRib": "06",
        },
    )
    assert changed.iban == "FR1420041010050500013M02606"


def test_update_without_change_emits_nothing_and_id_is_read_only():
    details, _ = new_bank_details(SIRET, _iban_data())
    assert update_bank_details(SIRET, details, {"nom": "Compte principal"}) == (details, [])
    err = _error(update_bank_details, SIRET, details, {"idCoordonneeBancaire": "other"})
    assert err.code is ErrorCode.FIELD_READ_ONLY


def test_deactivation_is_final_for_updates():
    details, _ = new_bank_details(SIRET, _iban_data())
    inactive, events = deactivate_bank_details(SIRET, details)
    assert inactive.statut is StatutCoordonnee.INACTIF
    assert events[0].event_type == "structure.bank_details_deactivated"
    assert events[0].statut == "INACTIF"
    assert _error(deactivate_bank_details, SIRET, inactive).code is ErrorCode.BANK_DETAILS_INACTIVE
    assert _error(update_bank_details, SIRET, inactive, {"nom": "x"}).code is (
        ErrorCode.BANK_DETAILS_INACTIVE
    )


def test_mask_iban_hides_the_account():
    assert mask_iban("FR7630006000011234567890189") == "FR76*******************0189"


def test_stored_details_reload_identically():
    details, _ = new_bank_details(SIRET, _rib_data())
    assert CoordonneeBancaire.model_validate(details.model_dump()) == details
