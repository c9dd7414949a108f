import pytest
from pydantic import ValidationError

from chorale_identity.settings import IdentitySettings


def test_defaults_and_links(monkeypatch):
    monkeypatch.setenv("CHORALE_PUBLIC_BASE_URL", "https://chorale.example.fr/")
    settings = IdentitySettings()
    assert settings.http_port == 8002 and settings.service_name == "identity"
    assert settings.access_token_ttl.total_seconds() == 900
    assert settings.argon2_params.memory_cost == 65536
    link = settings.link(settings.email_verification_path, "abc")
    assert link == "https://chorale.example.fr/compte/verification?token=abc"


def test_a_retired_key_must_outlive_the_tokens_it_signed():
    with pytest.raises(ValidationError):
        IdentitySettings(access_token_ttl_seconds=1800, signing_key_retention_seconds=600)


def test_the_passphrase_is_masked_in_the_effective_configuration():
    settings = IdentitySettings(signing_key_passphrase="tres-secret")
    assert "tres-secret" not in str(settings.effective())
