import pytest
from pydantic import BaseModel, ValidationError, field_validator

from chorale_structures.domain.errors import (
    HTTP_STATUS,
    MESSAGES,
    DomainError,
    ErrorCode,
    from_validation_error,
)


def test_every_code_has_a_french_message_and_a_status():
    assert set(MESSAGES) == set(ErrorCode) == set(HTTP_STATUS)
    assert HTTP_STATUS[ErrorCode.STRUCTURE_NOT_FOUND] == 404
    assert HTTP_STATUS[ErrorCode.SERVICE_CODE_TAKEN] == 409
    assert HTTP_STATUS[ErrorCode.ATTACHMENT_TOO_LARGE] == 413
    assert HTTP_STATUS[ErrorCode.SIRET_INVALID] == 422


def test_codes_are_stable_upper_snake_strings():
    for code in ErrorCode:
        assert code.value == code.name and code.value.isupper()


def test_error_body_follows_the_conventions():
    err = DomainError(ErrorCode.SERVICE_CODE_TAKEN, details={"codeService": "COMPTA"})
    assert err.to_dict() == {
        "code": "SERVICE_CODE_TAKEN",
        "message": "Ce code service existe déjà dans la structure.",
        "details": {"codeService": "COMPTA"},
    }
    assert err.http_status == 409
    assert DomainError(ErrorCode.RIB_INVALID, "Autre message").message == "Autre message"


class _Model(BaseModel):
    nom: str
    age: int

    @field_validator("nom")
    @classmethod
    def _nom(cls, value: str) -> str:
        if value == "x":
            raise ValueError("nom trop court")
        return value


def test_pydantic_errors_become_validation_failed_with_french_reasons():
    with pytest.raises(ValidationError) as info:
        _Model.model_validate({"nom": "x", "age": "vingt", "extra": 1})
    err = from_validation_error(info.value)
    assert err.code is ErrorCode.VALIDATION_FAILED
    assert err.details["fields"]["nom"] == "nom trop court"
    assert err.details["fields"]["age"] == "nombre entier attendu"
    with pytest.raises(ValidationError) as info:
        _Model.model_validate({})
    assert from_validation_error(info.value).details["fields"] == {
        "nom": "valeur obligatoire",
        "age": "valeur obligatoire",
    }
