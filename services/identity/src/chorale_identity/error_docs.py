"""`make docs`: the table of identity's error codes in docs/api.md, made from `CATALOGUE`."""

from __future__ import annotations

from pathlib import Path

from chorale_identity.domain.errors import CATALOGUE
from chorale_runtime.errors import with_catalogue

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def main() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    API_DOC.write_text(with_catalogue(text, CATALOGUE), encoding="utf-8")


if __name__ == "__main__":
    main()
