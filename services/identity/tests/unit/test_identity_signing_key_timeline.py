from datetime import timedelta

from chorale_identity.adapters.keyring import KeyEntry
from chorale_identity.domain.keys import generate_signing_key
from chorale_identity.service_layer.signing_keys import keyset_at, prune

from .conftest import T0

PUBLISH = timedelta(seconds=60)
RETENTION = timedelta(hours=1)


def entry(created, activates):
    return KeyEntry(generate_signing_key(), created, activates)


def kids(keyset):
    return [k.kid for k in keyset.verifying_keys()]


def test_a_new_key_is_published_before_it_signs_and_the_old_one_retires_later():
    first = entry(T0, T0)
    rotated_at = T0 + timedelta(days=90)
    second = entry(rotated_at, rotated_at + PUBLISH)
    ring = (first, second)

    before = keyset_at(ring, rotated_at + timedelta(seconds=1), RETENTION)
    assert before.current.kid == first.kid
    assert kids(before) == [first.kid, second.kid]  # published, not signing yet

    after = keyset_at(ring, rotated_at + PUBLISH, RETENTION)
    assert after.current.kid == second.kid
    assert kids(after) == [second.kid, first.kid]  # the old one still verifies

    later = rotated_at + PUBLISH + RETENTION
    assert kids(keyset_at(ring, later, RETENTION)) == [second.kid]
    assert prune(ring, later, RETENTION) == (second,)
    assert prune(ring, later - timedelta(seconds=1), RETENTION) == ring


def test_the_latest_active_key_signs_whatever_the_storage_order():
    a, b, c = entry(T0, T0), entry(T0, T0 + timedelta(hours=1)), entry(T0, T0 + timedelta(hours=2))
    keyset = keyset_at((c, a, b), T0 + timedelta(hours=1, minutes=30), RETENTION)
    assert keyset.current.kid == b.kid
    assert kids(keyset) == [b.kid, c.kid, a.kid]


def test_a_ring_whose_only_key_is_not_active_yet_still_signs_with_it():
    only = entry(T0, T0 + timedelta(minutes=5))  # clocks of replicas a little apart
    assert keyset_at((only,), T0, RETENTION).current.kid == only.kid
