"""The domain stays pure (CONVENTIONS.md): no I/O, no asyncio, no framework; modules small."""

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "chorale_identity" / "domain"
FORBIDDEN = {
    "asyncio",
    "fastapi",
    "faststream",
    "aiokafka",
    "pymongo",
    "motor",
    "httpx",
    "requests",
    "socket",
    "smtplib",
    "chorale_runtime",
    "starlette",
    "os",
    "subprocess",
}
PURE = {"chorale_runtime.errors"}  # the error model every service shares: no I/O
MODULES = sorted(DOMAIN.glob("*.py"))


def test_the_domain_package_is_where_expected():
    assert len(MODULES) >= 15


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_io_or_framework_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module not in PURE:
                imported.add(node.module.split(".")[0])
        assert not isinstance(node, ast.AsyncFunctionDef | ast.Await), path.name
    assert not imported & FORBIDDEN, path.name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) < 300
