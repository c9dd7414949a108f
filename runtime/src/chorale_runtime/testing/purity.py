"""Purity check for a service's `domain` package (docs/CONVENTIONS.md): business rules do no
I/O, run no event loop and know no framework, so they are tested without infrastructure.

Each service's unit tests call it once::

    import chorale_structures.domain as domain
    from chorale_runtime.testing.purity import impurities

    def test_the_domain_does_no_io():
        assert impurities(domain) == []

It reads the source (nothing is imported) and reports, per module: imports of I/O, network,
process, database, broker or web-framework modules; imports reaching out of the domain into
the service's adapters, entrypoints, service layer or composition root; `async def`/`await`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

#: Modules (and their sub-modules) a domain must not import.
IO_MODULES = frozenset({
    # processes, files, time and the operating system
    "os", "shutil", "tempfile", "subprocess", "signal", "multiprocessing", "time",
    # network and protocols
    "socket", "ssl", "select", "selectors", "smtplib", "imaplib", "ftplib", "http.client",
    "http.server", "urllib.request", "httpx", "requests", "aiohttp", "aiosmtpd",
    # event loops, logging
    "asyncio", "logging", "structlog",
    # storage and broker
    "sqlite3", "pymongo", "motor", "bson", "aiokafka", "kafka", "faststream",
    # web frameworks and servers
    "fastapi", "starlette", "uvicorn",
    # the plumbing (its error base is the one pure module a domain may use)
    "chorale_runtime",
})
#: Modules under IO_MODULES that are pure.
PURE_MODULES = frozenset({"chorale_runtime.errors"})
#: Layers of a service that a domain never reaches into.
OUTER_LAYERS = ("adapters", "entrypoints", "service_layer", "bootstrap", "settings", "metrics")


def _within(name: str, modules: Iterable[str]) -> bool:
    return any(name == m or name.startswith(m + ".") for m in modules)


def _imported(node: ast.AST, package: str) -> list[str]:
    """Absolute names imported by `node`, relative imports resolved against `package`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            base = node.module or ""
        else:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        # `from x import y`: y may be a sub-module (x.y); x.y is inside x anyway.
        return [f"{base}.{alias.name}" for alias in node.names]
    return []


def impurities(domain: ModuleType | Path, *, allow: Iterable[str] = ()) -> list[str]:
    """What makes the `domain` package impure, one line each (`file.py:12 imports socket`);
    empty when it is pure. `allow`: modules this domain may import anyway (say why where it is
    called)."""
    if isinstance(domain, ModuleType):
        assert domain.__file__, f"{domain.__name__} is not a package with files"
        root, name = Path(domain.__file__).parent, domain.__name__
    else:
        root = Path(domain).resolve()
        parents = [root.name]
        for folder in root.parents:  # the dotted name: up through the folders that are packages
            if not (folder / "__init__.py").is_file():
                break
            parents.insert(0, folder.name)
        name = ".".join(parents)
    service = name.rpartition(".")[0]
    outer = [f"{service}.{layer}" for layer in OUTER_LAYERS] if service else []
    allowed = set(allow) | PURE_MODULES
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        package = ".".join([name, *relative.parent.parts])
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{relative}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.AsyncFunctionDef | ast.Await):
                found.append(f"{where} is asynchronous")
                continue
            for imported in dict.fromkeys(_imported(node, package)):
                if _within(imported, allowed):
                    continue
                if _within(imported, IO_MODULES) or _within(imported, outer):
                    found.append(f"{where} imports {imported}")
    return found
