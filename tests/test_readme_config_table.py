"""The README's configuration table is generated from the settings classes; it must be current."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    path = ROOT / "deploy" / "config_table.py"
    spec = importlib.util.spec_from_file_location("config_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_configuration_table_is_current():
    generator = _generator()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert generator.updated(text) == text, "run `make docs` and commit README.md"


def test_the_table_lists_every_service_and_the_conventional_names():
    table = _generator().render()
    assert "`KAFKA_BOOTSTRAP_SERVERS`" in table and "`MONGODB_URI`" in table
    for service in ("structures", "identity", "habilitations", "invoice-intake", "notifications"):
        assert f"| {service} |" in table
