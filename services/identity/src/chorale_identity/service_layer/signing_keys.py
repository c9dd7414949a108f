"""Which key signs now, which ones the JWKS publishes, and rotation.

Timeline of a rotation started at ``t``: the new key is *published* (in the JWKS, not yet
signing) from ``t``; it *signs* from ``t + publish_delay``, so every verifier that refetches
the JWKS meanwhile already knows it; the key it replaces keeps *verifying* until
``retention`` after that, which must outlast the access tokens it signed.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from itertools import pairwise

from chorale_identity.adapters.documents import ConcurrentUpdate
from chorale_identity.adapters.keyring import KeyEntry, KeyRingRepository, StoredRing
from chorale_identity.domain.clock import Clock
from chorale_identity.domain.keys import KeySet, generate_signing_key
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def keyset_at(entries: tuple[KeyEntry, ...], now: datetime, retention: timedelta) -> KeySet:
    """The signing key at ``now`` plus every key a verifier may still need."""
    ordered = sorted(entries, key=lambda e: e.activates_at)
    active = [e for e in ordered if e.activates_at <= now] or ordered[:1]
    current = active[-1]
    upcoming = [e for e in ordered if e.activates_at > now and e is not current]
    retained = [
        older for older, successor in pairwise(active) if now < successor.activates_at + retention
    ]
    previous = [e.key.verifying for e in (*upcoming, *reversed(retained))]
    return KeySet(current.key, tuple(previous))


def prune(
    entries: tuple[KeyEntry, ...], now: datetime, retention: timedelta
) -> tuple[KeyEntry, ...]:
    keep = {k.kid for k in keyset_at(entries, now, retention).verifying_keys()}
    return tuple(e for e in entries if e.kid in keep)


class UnknownSigningKey(LookupError):
    """No key of the ring has this ``kid``."""


class KeyRing:
    def __init__(
        self,
        repo: KeyRingRepository,
        clock: Clock,
        *,
        publish_delay: timedelta,
        retention: timedelta,
        rotation_age: timedelta | None,
        refresh_seconds: float,
    ):
        self._repo = repo
        self._clock = clock
        self._publish_delay = publish_delay
        self._retention = retention
        self._rotation_age = rotation_age
        self._refresh_seconds = refresh_seconds
        self._ring: StoredRing | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def load(self) -> StoredRing:
        """Read the shared ring, creating it with a first key on the very first start."""
        async with self._lock:
            ring = await self._repo.load()
            if ring is None:
                now = self._clock.now()
                if await self._repo.create(KeyEntry(generate_signing_key(), now, now)):
                    log.info("signing_key_ring_created")
                ring = await self._repo.load()
                assert ring is not None
            self._ring, self._loaded_at = ring, time.monotonic()
            return ring

    async def _current_ring(self) -> StoredRing:
        if self._ring is None or time.monotonic() - self._loaded_at >= self._refresh_seconds:
            return await self.load()
        return self._ring

    async def keyset(self) -> KeySet:
        ring = await self._current_ring()
        return keyset_at(ring.entries, self._clock.now(), self._retention)

    async def reload_if_older_than(self, seconds: float) -> bool:
        """For a verifier meeting an unknown ``kid``: reload at most once per ``seconds``."""
        if time.monotonic() - self._loaded_at < seconds:
            return False
        await self.load()
        return True

    async def rotate(
        self, publish_delay: timedelta | None = None, *, if_older_than: timedelta | None = None
    ) -> str | None:
        """Add a key that signs after the publish delay; return its ``kid``.

        ``if_older_than``: only if the newest key is at least that old, checked again on every
        compare-and-set attempt, so replicas rotating at the same moment add one key, not two.
        """
        delay = self._publish_delay if publish_delay is None else publish_delay
        for _ in range(5):
            ring = await self.load()
            now = self._clock.now()
            newest = max(ring.entries, key=lambda e: e.created_at)
            if if_older_than is not None and now - newest.created_at < if_older_than:
                return None
            entry = KeyEntry(generate_signing_key(), now, now + delay)
            kept = prune(ring.entries, now, self._retention)
            try:
                await self._repo.save((*kept, entry), ring.version)
            except ConcurrentUpdate:
                continue
            await self.load()
            log.info("signing_key_rotated", kid=entry.kid, signs_from=entry.activates_at)
            return entry.kid
        raise ConcurrentUpdate("signing key ring kept changing during rotation")

    async def revoke(self, kid: str) -> str | None:
        """Remove ``kid`` from the ring at once: it neither signs nor verifies any more (every
        verifier drops it at its next JWKS refresh). If it was the signing key, a new key signs
        from now on (no publish delay: tokens of the revoked key are worthless anyway, and
        verifiers fetch an unknown ``kid`` at once). Returns that new key's ``kid``."""
        for _ in range(5):
            ring = await self.load()
            if kid not in {e.kid for e in ring.entries}:
                raise UnknownSigningKey(kid)
            now = self._clock.now()
            signing = keyset_at(ring.entries, now, self._retention).current.kid
            kept = tuple(e for e in ring.entries if e.kid != kid)
            replacement = KeyEntry(generate_signing_key(), now, now) if signing == kid else None
            try:
                await self._repo.save((*kept, *([replacement] if replacement else [])),
                                      ring.version)
            except ConcurrentUpdate:
                continue
            await self.load()
            new_kid = replacement.kid if replacement else None
            log.warning("signing_key_revoked", kid=kid, new_signing_kid=new_kid)
            return new_kid
        raise ConcurrentUpdate("signing key ring kept changing during revocation")

    async def reseal(self) -> int:
        """Store sealed with the current secrets key the keys that are not (see keyring)."""
        async with self._lock:
            return await self._repo.reseal()

    async def rotate_if_due(self) -> bool:
        if self._rotation_age is None:
            return False
        return await self.rotate(if_older_than=self._rotation_age) is not None

    async def run(self) -> None:
        """Background task: keep the ring fresh and rotate when the key is old enough."""
        while True:
            await asyncio.sleep(self._refresh_seconds)
            await self.load()
            await self.rotate_if_due()
