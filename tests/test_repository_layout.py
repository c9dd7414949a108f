"""Rules of the repository's layout that a reviewer would otherwise have to remember
(docs/CONVENTIONS.md)."""

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", "var", "node_modules", ".git"}


def _files(pattern: str, under: Path = ROOT) -> list[Path]:
    return [p for p in under.rglob(pattern) if not SKIPPED & set(p.relative_to(ROOT).parts)]


def test_no_two_test_files_share_a_name():
    names = Counter(p.name for p in _files("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_services_never_import_the_test_kit():
    offenders = []
    for path in _files("*.py", ROOT / "services"):
        if "src" not in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "chorale_testkit" for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_http_routers_live_in_http_modules():
    """JSON API routers: `entrypoints/http_*.py`; the portal's HTML pages: `pages_*.py`."""
    misplaced = [
        str(path.relative_to(ROOT))
        for path in _files("*.py", ROOT / "services")
        if path.parent.name == "entrypoints"
        and "APIRouter(" in path.read_text(encoding="utf-8")
        and not path.name.startswith(("http_", "pages_"))
    ]
    assert misplaced == []
