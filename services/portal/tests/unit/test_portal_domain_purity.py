"""The domain stays pure (docs/CONVENTIONS.md): no I/O, no event loop, no framework."""

import chorale_portal.domain as domain
from chorale_runtime.testing.purity import impurities

# secrets.py draws its AES-GCM nonces with os.urandom (randomness, not I/O).
ALLOWED = {"os"}


def test_the_domain_does_no_io():
    assert impurities(domain, allow=ALLOWED) == []
