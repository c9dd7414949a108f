"""The domain stays pure (docs/CONVENTIONS.md): no I/O, no event loop, no framework."""

import chorale_notifications.domain as domain
from chorale_runtime.testing.purity import impurities


def test_the_domain_does_no_io():
    assert impurities(domain) == []
