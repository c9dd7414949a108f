from chorale_runtime.redaction import MASK, redact, structlog_processor

JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVz"


def test_secret_keys_are_masked_at_any_depth():
    event = {
        "event": "sign_in",
        "password": "Correct-Horse-42",
        "request": {
            "headers": {"Authorization": "Bearer abc", "Cookie": "sid=1"},
            "body": {
                "newPassword": "x",
                "client_secret": "tas_1",
                "totp_code": "123456",
                "otp": "654321",
                "refresh_token": "rt_1",
                "password_hash": "$argon2id$",
            },
        },
        "items": [{"apiKey": "k"}, {"secretHash": "h"}],
    }
    clean = redact(event)
    body = clean["request"]["body"]
    assert clean["password"] == MASK
    assert clean["request"]["headers"] == {"Authorization": MASK, "Cookie": MASK}
    assert set(body.values()) == {MASK}
    assert clean["items"] == [{"apiKey": MASK}, {"secretHash": MASK}]
    assert event["password"] == "Correct-Horse-42"  # the original is untouched


def test_ordinary_fields_are_kept():
    event = {
        "code": "INVALID_CREDENTIALS",
        "key": "user-1",
        "codeService": "SERV1",
        "footprint": 3,
        "userId": "u1",
        "count": 2,
        "reason": None,
        "flag": True,
    }
    assert redact(event) == event


def test_tokens_inside_strings_are_masked():
    line = f"header Authorization: Bearer {JWT} refresh rt_{'a' * 43} secret tas_{'b' * 43}"
    clean = redact({"message": line})["message"]
    assert JWT not in clean and "a" * 43 not in clean and "b" * 43 not in clean
    assert "Bearer ***" in clean


def test_structlog_processor_redacts_the_event_dict():
    assert structlog_processor(None, "info", {"token": "t", "msg": JWT}) == {
        "token": MASK,
        "msg": MASK,
    }


def test_verification_links_are_masked():
    assert redact({"link": "https://chorale/verify?token=abc"})["link"] == MASK


def test_tokens_in_urls_are_masked():
    clean = redact({"message": "GET /verify?token=s3cr3t&lang=fr"})["message"]
    assert clean == "GET /verify?token=***&lang=fr"


def test_a_cyclic_or_very_deep_structure_is_masked_not_a_crash():
    cyclic: dict = {"name": "x"}
    cyclic["self"] = cyclic
    out = redact(cyclic)
    assert out["name"] == "x"
    deepest = out
    while isinstance(deepest.get("self"), dict):
        deepest = deepest["self"]
    assert deepest["self"] == "***"
    assert redact({"pass": "hunter2"}) == {"pass": "***"}
