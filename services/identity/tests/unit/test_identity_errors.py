from chorale_identity.domain.errors import (
    HTTP_STATUS,
    MESSAGES,
    DomainError,
    ErrorCode,
    invalid_credentials,
)


def test_every_code_has_a_french_message_and_an_http_status():
    for code in ErrorCode:
        assert MESSAGES[code].strip(), code
        assert HTTP_STATUS[code] in {400, 401, 403, 404, 409, 410, 422, 429}, code


def test_codes_are_their_own_upper_snake_names():
    for code in ErrorCode:
        assert code.value == code.name
        assert code.value.isupper()


def test_error_body_follows_the_conventions():
    error = DomainError(ErrorCode.RATTACHEMENT_EXISTS, details={"rattachementId": "r1"})
    assert error.to_dict() == {
        "code": "RATTACHEMENT_EXISTS",
        "message": "Une demande de rattachement existe déjà.",
        "details": {"rattachementId": "r1"},
    }
    assert error.http_status == 409


def test_invalid_credentials_is_always_the_same_body():
    assert invalid_credentials().to_dict() == invalid_credentials().to_dict()
    assert invalid_credentials().to_dict()["details"] == {}


def test_the_api_documentation_lists_every_code_as_the_catalogue_says():
    from chorale_identity.domain.errors import CATALOGUE
    from chorale_identity.error_docs import API_DOC
    from chorale_runtime.errors import with_catalogue

    text = API_DOC.read_text(encoding="utf-8")
    assert with_catalogue(text, CATALOGUE) == text, "run `make docs`"
    assert all(CATALOGUE[code].meaning for code in ErrorCode)
