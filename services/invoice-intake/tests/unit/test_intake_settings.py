"""The intake's configuration refuses what cannot work, with the variable to fix."""

from __future__ import annotations

import pytest

from chorale_intake.settings import IntakeSettings
from chorale_runtime.settings import ConfigurationError, load_settings


def test_defaults_are_usable():
    settings = IntakeSettings()
    assert settings.http_port == 8004 and settings.service_name == "invoice-intake"
    assert settings.worker_count >= 1
    assert settings.request_limit == 2 * settings.max_bytes


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"timezone": "Mars/Olympus"}, "CHORALE_TIMEZONE"),
        ({"max_bytes": 1000, "api_max_request_bytes": 10}, "API_MAX_REQUEST_BYTES"),
        ({"max_depth": 1000}, "CHORALE_MAX_DEPTH"),
        ({"edi_batch_size": 0}, "CHORALE_EDI_BATCH_SIZE"),
    ],
)
def test_invalid_configuration_is_refused_with_a_reason(overrides, variable, capsys):
    with pytest.raises(ConfigurationError):
        load_settings(IntakeSettings, **overrides)
    assert variable in capsys.readouterr().err.upper()
