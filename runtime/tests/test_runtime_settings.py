import pytest

from chorale_runtime.settings import ConfigurationError, ServiceSettings, load_settings


class DemoSettings(ServiceSettings):
    service_name: str = "demo-svc"


def test_defaults_and_conventional_variable_names(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9093")
    monkeypatch.setenv("MONGODB_URI", "mongodb://u:p@db:27017/")
    monkeypatch.setenv("CHORALE_HTTP_PORT", "9100")
    s = load_settings(DemoSettings)
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9093"
    assert s.http_port == 9100
    assert s.database_name == "chorale_demo_svc"
    assert s.client_id == "chorale-demo-svc-0"


def test_effective_configuration_masks_secrets(monkeypatch):
    monkeypatch.setenv("MONGODB_URI", "mongodb://admin:hunter2@db:27017/")
    shown = DemoSettings().effective()
    assert "hunter2" not in str(shown)
    assert shown["mongodb_uri"] == "mongodb://admin:********@db:27017/"


def test_invalid_configuration_exits_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("CHORALE_HTTP_PORT", "not-a-port")
    with pytest.raises(ConfigurationError) as info:
        load_settings(DemoSettings)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("chorale-demo-svc: invalid configuration: CHORALE_HTTP_PORT")


def test_bootstrap_servers_need_ports(monkeypatch, capsys):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost")
    with pytest.raises(ConfigurationError):
        load_settings(DemoSettings)
    assert "host:port" in capsys.readouterr().err
