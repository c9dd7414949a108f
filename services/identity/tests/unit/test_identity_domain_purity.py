"""The domain stays pure (docs/CONVENTIONS.md): no I/O, no event loop, no framework."""

from pathlib import Path

import chorale_identity.domain as domain
from chorale_runtime.testing.purity import impurities


def test_the_domain_does_no_io():
    assert impurities(domain) == []


def test_domain_modules_stay_small():
    folder = Path(domain.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert len(sizes) >= 15 and max(sizes.values()) < 300, sizes
