"""The README's configuration table is generated from the settings classes; it must be current."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_configuration_table_is_current(deploy_script):
    generator = deploy_script("config_table")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert generator.updated(text) == text, "run `make docs` and commit README.md"


def test_the_table_lists_every_service_and_the_conventional_names(deploy_script):
    table = deploy_script("config_table").render()
    assert "`KAFKA_BOOTSTRAP_SERVERS`" in table and "`MONGODB_URI`" in table
    for service in ("structures", "identity", "habilitations", "invoice-intake", "notifications"):
        assert f"| {service} |" in table
