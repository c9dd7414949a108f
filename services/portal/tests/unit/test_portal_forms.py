"""Forms to API bodies, and the services' refusals to what a form shows: pure functions."""

from chorale_portal.domain import forms
from chorale_portal.domain.form_errors import form_errors
from chorale_portal.domain.secrets import (
    csrf_token,
    csrf_valid,
    new_secret,
    record_id,
    seal,
    unseal,
)


def test_registration_sends_only_what_was_given_and_checks_the_confirmation():
    body, errors = forms.registration({
        "email": " jeanne@ville.fr ", "password": "Secret-2026!x", "passwordConfirmation":
        "Secret-2026!x", "prenom": "Jeanne", "nom": "Martin", "telephone": "", "mobile": " "})
    assert not errors
    assert body == {"email": "jeanne@ville.fr", "password": "Secret-2026!x",
                    "prenom": "Jeanne", "nom": "Martin"}
    _, errors = forms.registration({"email": "a@b.fr", "password": "x",
                                    "passwordConfirmation": "y", "prenom": "A", "nom": "B"})
    assert set(errors.fields) == {"passwordConfirmation"}


def test_new_structure_strips_siret_spaces_and_drops_empty_fields():
    body, errors = forms.new_structure({"typeIdentifiant": "SIRET",
                                        "identifiant": "356 000 000 00048",
                                        "raisonSociale": "La Poste", "ville": "", "pays": "fr"})
    assert not errors
    assert body == {"identifiant": "35600000000048", "typeIdentifiant": "SIRET",
                    "raisonSociale": "La Poste", "pays": "FR", "nonDiffusibleInsee": False}


def test_structure_information_clears_emptied_fields():
    body, _ = forms.structure_information({"raisonSociale": "Mairie", "telephone": "",
                                           "nonDiffusibleInsee": "on"})
    assert body["telephone"] is None and body["nonDiffusibleInsee"] is True


def test_parameters_are_the_ticked_boxes_and_never_the_operator_only_one():
    body, errors = forms.parameters({"codeServiceDoitEtreRenseigne": "on",
                                     "recevoirDonneesViaEDI": "on", "presenceMOA": "AVEC_MOA"})
    assert not errors
    assert body == {"codeServiceDoitEtreRenseigne": True, "numeroEJDoitEtreRenseigne": False,
                    "gestionNumeroEJOuCodeService": False,
                    "statutMiseEnPaiementNestPasRemonte": False, "presenceMOA": "AVEC_MOA"}
    _, errors = forms.parameters({"presenceMOA": "PARFOIS"})
    assert "presenceMOA" in errors.fields


def test_service_code_is_upper_cased_and_dates_are_required():
    body, errors = forms.service({"codeService": "compta", "libelle": "Comptabilité",
                                  "dateDebutActivation": "2025-01-01"}, new=True)
    assert not errors
    assert body["codeService"] == "COMPTA" and body["dateFinActivation"] is None
    assert body["numeroEJDoitEtreRenseigne"] is False
    _, errors = forms.service({"libelle": "X"}, new=False)
    assert set(errors.fields) == {"dateDebutActivation"}


def test_bank_details_as_iban_or_rib_with_an_optional_factor():
    body, errors = forms.bank_details({"nom": "Compte", "type": "IBAN", "iban": "FR76 3000",
                                       "bic": "AGRIFRPP", "affactureur_typeIdentifiant": "SIRET"},
                                      new=True)
    assert not errors and body == {"nom": "Compte", "type": "IBAN", "iban": "FR76 3000",
                                   "bic": "AGRIFRPP"}
    body, errors = forms.bank_details({"nom": "Compte", "type": "RIB", "codeBanque": "30006",
                                       "codeGuichet": "00001", "numeroCompte": "12345678901",
                                       "cleRib": "89", "affactureur_raisonSociale": "Factor",
                                       "affactureur_identifiant": "35600000000048"}, new=True)
    assert not errors
    assert body["affactureur"] == {"raisonSociale": "Factor", "pays": "FR",
                                   "identifiant": "35600000000048", "typeIdentifiant": "SIRET"}
    _, errors = forms.bank_details({"nom": "Compte", "type": "RIB"}, new=True)
    assert set(errors.fields) == {"codeBanque", "codeGuichet", "numeroCompte", "cleRib"}
    body, _ = forms.bank_details({"nom": "C", "iban": "X", "bic": "Y"}, new=False)
    assert body["affactureur"] is None  # a modification without factor removes it


def test_field_errors_of_both_services_land_next_to_their_fields():
    structures = form_errors("VALIDATION_FAILED", "Données invalides.",
                             {"fields": {"raisonSociale": "valeur obligatoire"}})
    assert structures.fields == {"raisonSociale": "Valeur obligatoire."}
    assert structures.top  # and a sentence at the top of the form
    identity = form_errors("VALIDATION_FAILED", "La requête contient des données invalides.",
                           {"champs": [{"champ": "prenom", "erreur": "Field required"}]})
    assert identity.fields == {"prenom": "Valeur obligatoire."}


def test_a_code_without_field_goes_to_its_field_or_to_the_top():
    assert form_errors("IBAN_INVALID", "L'IBAN est invalide.").fields == {
        "iban": "L'IBAN est invalide."}
    weak = form_errors("PASSWORD_TOO_WEAK", "Trop faible.", {"manquants": ["x"]},
                       aliases={"password": "newPassword"})
    assert weak.fields == {"newPassword": "Trop faible."}
    unknown_field = form_errors("SIRET_INVALID", "SIRET invalide.", known={"email"})
    assert unknown_field.top == ["SIRET invalide."] and not unknown_field.fields
    wrong = form_errors("INVALID_CREDENTIALS", "Mot de passe incorrect.",
                        code_fields={"INVALID_CREDENTIALS": "currentPassword"})
    assert wrong.fields == {"currentPassword": "Mot de passe incorrect."}
    assert form_errors("INVALID_CREDENTIALS", "Identifiants incorrects.").top == [
        "Identifiants incorrects."]


def test_sealed_tokens_open_only_with_the_cookie_secret():
    secret = new_secret()
    sealed = seal(secret, {"refresh": "rt_abc"})
    assert "rt_abc" not in sealed and record_id(secret) != secret
    assert unseal(secret, sealed) == {"refresh": "rt_abc"}
    assert unseal(new_secret(), sealed) is None
    assert unseal(secret, sealed[:-4] + "AAAA") is None


def test_csrf_token_is_bound_to_its_seed():
    seed = new_secret()
    assert csrf_valid(seed, csrf_token(seed))
    assert not csrf_valid(seed, csrf_token(new_secret()))
    assert not csrf_valid(None, csrf_token(seed)) and not csrf_valid(seed, "")


def test_time_waiting_counts_concurrent_calls_once():
    from chorale_portal.adapters.services_api import time_waiting

    assert time_waiting([]) == 0
    assert time_waiting([(0.0, 1.0), (0.5, 1.5), (3.0, 4.0)]) == 2.5
    assert time_waiting([(0.0, 2.0), (0.5, 1.0)]) == 2.0
