"""The domain stays pure: no I/O, no asyncio, no framework."""

import ast
from pathlib import Path

import chorale_habilitations.domain as domain

FORBIDDEN = ("asyncio", "pymongo", "fastapi", "faststream", "aiokafka", "httpx",
             "chorale_runtime")
PURE = {"chorale_runtime.errors"}  # the error model every service shares: no I/O


def test_domain_modules_import_nothing_that_does_io():
    for path in Path(domain.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name in PURE or not name.startswith(FORBIDDEN), \
                    f"{path.name} imports {name}"
