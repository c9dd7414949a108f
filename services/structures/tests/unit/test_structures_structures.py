import itertools
from datetime import date

import pytest

from chorale_structures.domain.errors import DomainError, ErrorCode
from chorale_structures.domain.parameters import ParametresStructure, PresenceMOA
from chorale_structures.domain.structures import (
    StatutStructure,
    Structure,
    TypeStructure,
    activate,
    apply_update,
    deactivate,
    new_private_structure,
    new_public_structure,
)

TODAY = date(2025, 3, 1)
PUBLIC = {
    "identifiant": "20007104100046",
    "raisonSociale": "CC DU CHAOURCOIS ET DU VAL D'ARMANCE",
    "adresse": "8 BD DES GRANDS FOSSES",
    "codePostal": "10130",
    "ville": "ERVY-LE-CHATEL",
}
PRIVATE = {"identifiant": "21750001600019", "raisonSociale": "Fournisseur SARL"}


def _public(**extra) -> Structure:
    return new_public_structure({**PUBLIC, **extra}, today=TODAY).structure


def _error(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


# --- creation ----------------------------------------------------------------------------


def test_private_structure_is_created_active_with_its_creator_as_gp():
    structure, [event] = new_private_structure(PRIVATE, creator_id="user-42")
    assert structure.typeStructure is TypeStructure.PRIVEE
    assert structure.statut is StatutStructure.ACTIVE
    assert structure.parametres is None
    assert event.event_type == "structure.created"
    assert (event.identifiant, event.createdBy, event.origin) == (
        "21750001600019",
        "user-42",
        "SELF_SERVICE",
    )


def test_private_structure_refuses_parameters_flat_or_nested():
    flat = {**PRIVATE, "codeServiceDoitEtreRenseigne": True}
    nested = {**PRIVATE, "parametres": {"numeroEJDoitEtreRenseigne": False}}
    for data in (flat, nested):
        err = _error(new_private_structure, data, creator_id="u")
        assert err.code is ErrorCode.PARAMETERS_NOT_APPLICABLE


def test_private_structure_cannot_claim_to_be_public():
    err = _error(new_private_structure, {**PRIVATE, "typeStructure": "PUBLIQUE"}, creator_id="u")
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert "typeStructure" in err.details["fields"]


def test_private_structure_with_invalid_siret():
    err = _error(
        new_private_structure, {**PRIVATE, "identifiant": "21750001600018"}, creator_id="u"
    )
    assert err.code is ErrorCode.SIRET_INVALID


def test_private_structure_with_another_identifier_type():
    structure, _ = new_private_structure(
        {
            "identifiant": "de136695976",
            "typeIdentifiant": "UE_HORS_FRANCE",
            "raisonSociale": "GmbH",
            "pays": "de",
        },
        creator_id="u",
    )
    assert (structure.identifiant, structure.pays) == ("DE136695976", "DE")


def test_public_structure_comes_with_factures_publiques():
    created = new_public_structure(
        {**PUBLIC, "codeServiceDoitEtreRenseigne": True},
        today=TODAY,
        origin="REQUEST",
        created_by="user-7",
    )
    assert created.structure.typeStructure is TypeStructure.PUBLIQUE
    assert created.structure.parametres.codeServiceDoitEtreRenseigne is True
    service = created.reserved_service
    assert (service.codeService, service.dateDebutActivation, service.statut) == (
        "FACTURES_PUBLIQUES",
        TODAY,
        "ACTIF",
    )
    assert [e.event_type for e in created.events] == [
        "structure.created",
        "structure.service_created",
    ]
    assert created.events[0].origin == "REQUEST" and created.events[0].createdBy == "user-7"
    assert created.events[1].codeService == "FACTURES_PUBLIQUES"


def test_public_structure_gets_default_parameters():
    assert _public().parametres == ParametresStructure()
    assert _public().parametres.presenceMOA is PresenceMOA.SANS_MOA


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("raisonSociale", "", "obligatoire"),
        ("raisonSociale", "x" * 201, "200"),
        ("raisonSociale", "deux\nlignes", "retours à la ligne"),
        ("adresseElectronique", "pas-un-mail", "adresse électronique"),
        ("telephone", "appelez-moi", "téléphone"),
        ("numeroTva", "FR00000000000", "TVA"),
        ("pays", "France", "code pays"),
        ("codePostal", "1013", "5 chiffres"),
        ("nonDiffusibleInsee", "peut-être", "booléen"),
    ],
)
def test_general_information_rules(field, value, reason):
    err = _error(new_public_structure, {**PUBLIC, field: value}, today=TODAY)
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert reason in err.details["fields"][field]


def test_foreign_postcodes_are_free_and_vat_is_normalised():
    structure = _public(pays="be", codePostal="B-1000", numeroTva="fr 40 303265045")
    assert (structure.pays, structure.codePostal, structure.numeroTva) == (
        "BE",
        "B-1000",
        "FR40303265045",
    )


# --- parameters ----------------------------------------------------------------------------

_OBLIGATIONS = (
    "codeServiceDoitEtreRenseigne",
    "numeroEJDoitEtreRenseigne",
    "gestionNumeroEJOuCodeService",
)


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=3)))
def test_parameter_combinations(flags):
    code_service, ej, either = flags
    params = dict(zip(_OBLIGATIONS, flags, strict=True))
    forbidden = either and (code_service or ej)
    if forbidden:
        err = _error(new_public_structure, {**PUBLIC, **params}, today=TODAY)
        assert err.code is ErrorCode.PARAMETERS_INCOHERENT
        assert set(err.details["champs"]) == set(_OBLIGATIONS)
    else:
        assert _public(**params).parametres.model_dump(include=set(_OBLIGATIONS)) == params


@pytest.mark.parametrize("moa", ["SANS_MOA", "AVEC_MOA", "EXCLUSIVEMENT_MOA"])
def test_presence_moa_values(moa):
    assert _public(presenceMOA=moa).parametres.presenceMOA == moa


def test_unknown_presence_moa_is_refused():
    err = _error(new_public_structure, {**PUBLIC, "presenceMOA": "PARFOIS_MOA"}, today=TODAY)
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert "parametres.presenceMOA" in err.details["fields"]


def test_parameters_combination_is_checked_on_update_against_stored_values():
    structure = _public(codeServiceDoitEtreRenseigne=True)
    err = _error(apply_update, structure, {"gestionNumeroEJOuCodeService": True})
    assert err.code is ErrorCode.PARAMETERS_INCOHERENT
    switched, _ = apply_update(
        structure, {"codeServiceDoitEtreRenseigne": False, "gestionNumeroEJOuCodeService": True}
    )
    assert switched.parametres.gestionNumeroEJOuCodeService is True


# --- updates -------------------------------------------------------------------------------


def test_update_of_general_information_emits_structure_updated_with_the_changes():
    structure = _public()
    updated, [event] = apply_update(
        structure, {"libelleStructure": "Communauté Chaource", "telephone": "03 25 70 00 00"}
    )
    assert updated.libelleStructure == "Communauté Chaource"
    assert structure.libelleStructure is None  # the original state is untouched
    assert event.event_type == "structure.updated"
    assert event.changes == {
        "libelleStructure": "Communauté Chaource",
        "telephone": "03 25 70 00 00",
    }


def test_update_of_parameters_emits_parameters_changed_with_the_full_set():
    updated, [event] = apply_update(
        _public(), {"parametres": {"numeroEJDoitEtreRenseigne": True}, "presenceMOA": "AVEC_MOA"}
    )
    assert event.event_type == "structure.parameters_changed"
    assert event.parameters == {
        "codeServiceDoitEtreRenseigne": False,
        "numeroEJDoitEtreRenseigne": True,
        "gestionNumeroEJOuCodeService": False,
        "statutMiseEnPaiementNestPasRemonte": False,
        "recevoirDonneesViaEDI": False,
        "presenceMOA": "AVEC_MOA",
    }
    assert updated.parametres.presenceMOA is PresenceMOA.AVEC_MOA


def test_update_touching_both_emits_both_events():
    _, events = apply_update(
        _public(),
        {"ville": "TROYES", "codePostal": "10000", "statutMiseEnPaiementNestPasRemonte": True},
    )
    assert [e.event_type for e in events] == ["structure.updated", "structure.parameters_changed"]
    assert events[0].changes == {"ville": "TROYES", "codePostal": "10000"}


def test_update_without_change_emits_nothing():
    structure = _public()
    result = apply_update(
        structure, {"ville": "ERVY-LE-CHATEL", "identifiant": structure.identifiant}
    )
    assert result.state is structure and result.events == []


def test_none_clears_an_optional_field_but_not_a_required_one():
    structure = _public()
    cleared, [event] = apply_update(structure, {"adresse": None})
    assert cleared.adresse is None and event.changes == {"adresse": None}
    err = _error(apply_update, structure, {"raisonSociale": None})
    assert err.code is ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize(
    "field, value",
    [
        ("identifiant", "21750001600019"),
        ("typeIdentifiant", "HORS_UE"),
        ("typeStructure", "PRIVEE"),
        ("statut", "INACTIVE"),
    ],
)
def test_read_only_fields(field, value):
    err = _error(apply_update, _public(), {field: value})
    assert err.code is ErrorCode.FIELD_READ_ONLY
    assert err.details == {"champ": field}


def test_unknown_field_is_refused():
    err = _error(apply_update, _public(), {"siteWeb": "https://example.org"})
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert err.details["fields"] == {"siteWeb": "champ inconnu"}


def test_parameters_on_a_private_structure_are_not_applicable():
    structure, _ = new_private_structure(PRIVATE, creator_id="u")
    err = _error(apply_update, structure, {"numeroEJDoitEtreRenseigne": True})
    assert err.code is ErrorCode.PARAMETERS_NOT_APPLICABLE


def test_edi_reception_comes_from_reference_data_only():
    structure = _public()
    err = _error(apply_update, structure, {"recevoirDonneesViaEDI": True})
    assert err.code is ErrorCode.FIELD_READ_ONLY
    unchanged = apply_update(structure, {"recevoirDonneesViaEDI": False})
    assert unchanged.events == []
    updated, _ = apply_update(structure, {"recevoirDonneesViaEDI": True}, by_operator=True)
    assert updated.parametres.recevoirDonneesViaEDI is True


def test_inactive_structure_is_changed_by_operators_only():
    inactive, _ = deactivate(_public())
    err = _error(apply_update, inactive, {"libelleStructure": "x"})
    assert err.code is ErrorCode.STRUCTURE_INACTIVE
    updated, _ = apply_update(inactive, {"libelleStructure": "x"}, by_operator=True)
    assert updated.libelleStructure == "x" and updated.statut is StatutStructure.INACTIVE


# --- activation --------------------------------------------------------------------------


def test_deactivation_then_activation():
    structure = _public()
    inactive, [off] = deactivate(structure)
    assert inactive.statut is StatutStructure.INACTIVE and not inactive.is_active
    assert (off.event_type, off.identifiant) == ("structure.deactivated", structure.identifiant)
    active, [on] = activate(inactive)
    assert active.statut is StatutStructure.ACTIVE
    assert on.event_type == "structure.activated"


def test_transitions_cannot_repeat():
    structure = _public()
    assert _error(activate, structure).code is ErrorCode.STRUCTURE_ALREADY_ACTIVE
    inactive, _ = deactivate(structure)
    assert _error(deactivate, inactive).code is ErrorCode.STRUCTURE_INACTIVE


def test_stored_structure_reloads_identically():
    structure = _public(codeServiceDoitEtreRenseigne=True, presenceMOA="AVEC_MOA")
    assert Structure.model_validate(structure.model_dump(mode="json")) == structure
