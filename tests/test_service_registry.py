"""One registry of services (chorale_cli.services): every service folder has its entry, the
entry agrees with the service's own code, and the files generated from it are current."""

import tomllib
from pathlib import Path

from chorale_cli.services import SERVICES, in_start_order

ROOT = Path(__file__).resolve().parents[1]


def test_every_service_folder_has_an_entry_and_every_entry_a_folder():
    folders = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").is_file()}
    assert folders == {s.folder for s in SERVICES.values()}


def test_each_entry_names_the_package_module_port_and_settings_of_its_folder():
    for service in SERVICES.values():
        folder = ROOT / "services" / service.folder
        project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        assert project["name"] == service.package, service.name
        assert (folder / "src" / service.module / "__main__.py").is_file(), service.name
        settings = service.settings_class()
        assert settings.model_fields["service_name"].default == service.name
        assert settings.model_fields["http_port"].default == service.port, service.name
        assert service.url_setting.startswith("CHORALE_") and service.url_setting.endswith("_URL")
    ports = [s.port for s in SERVICES.values()]
    assert len(set(ports)) == len(ports)


def test_identity_starts_first():
    assert in_start_order()[0].name == "identity"


def test_prometheus_and_compose_files_are_current(deploy_script):
    generator = deploy_script("service_files")
    assert generator.PROMETHEUS.read_text() == generator.render_prometheus(), "run `make docs`"
    compose = generator.COMPOSE.read_text()
    assert generator.updated_compose(compose) == compose, "run `make docs`"


def test_a_new_entry_gets_its_compose_block_and_scrape_target(deploy_script, monkeypatch):
    generator = deploy_script("service_files")
    new = SERVICES["invoices"].__class__(
        "archives", "chorale_archives", "ArchivesSettings", 8007, "CHORALE_ARCHIVES_URL",
        "archives", "chorale-archives",
    )
    monkeypatch.setitem(SERVICES, "archives", new)
    compose = generator.updated_compose(generator.COMPOSE.read_text())
    assert "  archives:\n    <<: *service\n" in compose
    assert "SERVICE_PACKAGE: chorale-archives, SERVICE_MODULE: chorale_archives" in compose
    assert 'ports: ["8007:8000"]' in compose
    assert "CHORALE_ARCHIVES_URL: http://archives:8000" in compose
    assert "- archives:8100" in generator.render_prometheus()
