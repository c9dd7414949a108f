import io
import json

from chorale_runtime import logging as chorale_logging
from chorale_runtime.errors import ApiError, status_for
from chorale_runtime.redaction import MASK, redact


def test_secret_keys_are_masked_at_any_depth():
    data = {"user": "a@b.fr", "password": "s3cret!", "nested": {"client_secret": "x", "n": 1},
            "items": [{"refresh_token": "abc"}]}
    out = redact(data)
    assert out["user"] == "a@b.fr"
    assert out["password"] == MASK
    assert out["nested"] == {"client_secret": MASK, "n": 1}
    assert out["items"][0]["refresh_token"] == MASK


def test_bearer_tokens_and_jwts_are_masked_inside_strings():
    text = "Authorization: Bearer abc.def-ghi and eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"
    out = redact(text)
    assert "abc.def-ghi" not in out
    assert "eyJhbGciOi" not in out


def test_json_log_lines_carry_service_context_and_no_secret():
    stream = io.StringIO()
    chorale_logging.configure("demo", "INFO", "json", stream=stream)
    log = chorale_logging.get_logger("t")
    with chorale_logging.bound_contextvars(correlation_id="corr-42"):
        log.info("signed_in", email="a@b.fr", password="hunter2")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["service"] == "demo"
    assert line["event"] == "signed_in"
    assert line["correlation_id"] == "corr-42"
    assert line["level"] == "info"
    assert "hunter2" not in stream.getvalue()


class _Coded(Exception):
    def __init__(self, code):
        self.code = code
        self.message = "m"


def test_http_status_follows_code_conventions():
    assert status_for(_Coded("STRUCTURE_NOT_FOUND")) == 404
    assert status_for(_Coded("SERVICE_CODE_TAKEN")) == 409
    assert status_for(_Coded("STRUCTURE_EXISTS")) == 409
    assert status_for(_Coded("ATTACHMENT_TOO_LARGE")) == 413
    assert status_for(_Coded("FORBIDDEN")) == 403
    assert status_for(_Coded("SIRET_INVALID")) == 400
    assert status_for(_Coded("SIRET_INVALID"), {"SIRET_INVALID": 422}) == 422
    assert status_for(ApiError("X", "y", 418)) == 418


def test_a_catalogued_error_takes_its_message_and_status_from_its_catalogue():
    from chorale_runtime.errors import CataloguedError, ErrorSpec, status_for, with_catalogue

    class Refused(CataloguedError):
        catalogue = {"THING_LOCKED": ErrorSpec(423, "La chose est verrouillée.", "locked")}

    error = Refused("THING_LOCKED", details={"id": "1"})
    assert (error.http_status, status_for(error)) == (423, 423)
    assert error.to_dict() == {"code": "THING_LOCKED", "message": "La chose est verrouillée.",
                               "details": {"id": "1"}}
    assert Refused("THING_LOCKED", "Plus précis.").message == "Plus précis."
    doc = "# API\n<!-- error codes: generated from the code by `make docs` -->\nold\n" \
          "<!-- end of error codes -->\nafter\n"
    made = with_catalogue(doc, Refused.catalogue)
    assert "| `THING_LOCKED` | 423 | locked |" in made and "old" not in made
    assert made.endswith("after\n") and with_catalogue(made, Refused.catalogue) == made
