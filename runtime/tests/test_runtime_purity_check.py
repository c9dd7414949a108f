"""The shared purity check finds what makes a domain impure, and passes a pure one."""

from pathlib import Path

from chorale_runtime.testing.purity import impurities


def _package(root: Path, files: dict[str, str]) -> Path:
    domain = root / "chorale_example" / "domain"
    domain.mkdir(parents=True)
    (domain.parent / "__init__.py").write_text("")
    for name, text in {"__init__.py": "", **files}.items():
        (domain / name).write_text(text)
    return domain


def test_a_pure_domain_has_no_impurities(tmp_path):
    domain = _package(tmp_path, {
        "rules.py": "import re\nfrom urllib.parse import quote\nfrom . import money\n"
                    "from chorale_runtime.errors import ChoraleError\n",
        "money.py": "from dataclasses import dataclass\n",
    })
    assert impurities(domain) == []


def test_io_frameworks_outer_layers_and_coroutines_are_reported(tmp_path):
    domain = _package(tmp_path, {
        "a.py": "import socket\nfrom pymongo import ReturnDocument\n",
        "b.py": "from ..adapters import repository\nfrom chorale_example.bootstrap import x\n",
        "c.py": "async def fetch():\n    pass\n",
        "d.py": "from chorale_runtime import outbox\nimport os.path\n",
    })
    assert impurities(domain) == [
        "a.py:1 imports socket",
        "a.py:2 imports pymongo.ReturnDocument",
        "b.py:1 imports chorale_example.adapters.repository",
        "b.py:2 imports chorale_example.bootstrap.x",
        "c.py:1 is asynchronous",
        "d.py:1 imports chorale_runtime.outbox",
        "d.py:2 imports os.path",
    ]


def test_allowed_modules_are_not_reported(tmp_path):
    domain = _package(tmp_path, {"a.py": "import os\n"})
    assert impurities(domain, allow={"os"}) == []
