"""The signing keys, shared by every replica through one document (``_id`` = "keyring").

Each entry holds a private key, PKCS#8 sealed with the secrets key (``secret_box``; context
``signing-key:<kid>``), and the moment it starts signing. Entries an earlier version stored as
clear PEM, or PEM encrypted with ``CHORALE_SIGNING_KEY_PASSPHRASE``, are still read, and
``reseal`` (run at start) stores them sealed. Which key signs and which ones the JWKS
publishes is computed from the entries and the time (``service_layer.signing_keys``), so
replicas agree without coordinating; rotation appends an entry with a compare-and-set on
``version``, and the first start inserts the document (two replicas starting together cannot
both create one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_identity.adapters.documents import ConcurrentUpdate
from chorale_identity.adapters.secret_box import SecretBox
from chorale_identity.domain.keys import SigningKey
from chorale_runtime.mongo import insert_once

COLLECTION = "signing_keys"
DOC_ID = "keyring"


@dataclass(frozen=True)
class KeyEntry:
    key: SigningKey
    created_at: datetime
    activates_at: datetime

    @property
    def kid(self) -> str:
        return self.key.kid


@dataclass(frozen=True)
class StoredRing:
    entries: tuple[KeyEntry, ...]
    version: int


def _context(kid: str) -> str:
    return f"signing-key:{kid}"


class KeyRingRepository:
    def __init__(self, db: AsyncDatabase, box: SecretBox, passphrase: str | None = None):
        self._col = db[COLLECTION]
        self._box = box
        self._passphrase = passphrase.encode() if passphrase else None
        self._decoded: dict[str, SigningKey] = {}  # decryption once per key

    def _encode(self, entry: KeyEntry) -> dict[str, Any]:
        return {
            "kid": entry.kid,
            "sealedKey": self._box.seal(entry.key.to_pem(), _context(entry.kid)),
            "createdAt": entry.created_at,
            "activatesAt": entry.activates_at,
        }

    def _private_key(self, raw: dict[str, Any]) -> SigningKey:
        if "sealedKey" in raw:
            return SigningKey.from_pem(self._box.open(raw["sealedKey"], _context(raw["kid"])))
        if raw.get("encrypted"):  # an earlier version's passphrase-encrypted PEM
            if self._passphrase is None:
                raise RuntimeError(
                    "the signing keys are encrypted: set CHORALE_SIGNING_KEY_PASSPHRASE"
                )
            return SigningKey.from_pem(raw["pem"], self._passphrase)
        return SigningKey.from_pem(raw["pem"])  # an earlier version's clear PEM

    def _decode(self, raw: dict[str, Any]) -> KeyEntry:
        key = self._decoded.get(raw["kid"])
        if key is None:
            key = self._private_key(raw)
            if key.kid != raw["kid"]:
                raise RuntimeError(f"signing key {raw['kid']} does not match its kid")
            self._decoded[key.kid] = key
        return KeyEntry(key, raw["createdAt"], raw["activatesAt"])

    def _needs_sealing(self, raw: dict[str, Any]) -> bool:
        return not self._box.is_current(raw.get("sealedKey", ""))

    async def reseal(self) -> int:
        """Seal with the current secrets key every entry that is not (clear, passphrase or an
        older secrets key); also proves the stored keys decrypt. Returns how many changed."""
        for _ in range(5):
            doc = await self._col.find_one({"_id": DOC_ID})
            if doc is None:
                return 0
            entries = [self._decode(raw) for raw in doc["keys"]]
            changed = sum(1 for raw in doc["keys"] if self._needs_sealing(raw))
            if not changed:
                return 0
            try:
                await self.save(tuple(entries), int(doc["version"]))
            except ConcurrentUpdate:
                continue
            return changed
        raise ConcurrentUpdate(f"{COLLECTION}/{DOC_ID} kept changing while re-sealing")

    async def load(self) -> StoredRing | None:
        doc = await self._col.find_one({"_id": DOC_ID})
        if doc is None:
            return None
        return StoredRing(tuple(self._decode(k) for k in doc["keys"]), int(doc["version"]))

    async def create(self, entry: KeyEntry) -> bool:
        """False if another replica created the ring first."""
        return await insert_once(
            self._col, {"_id": DOC_ID, "keys": [self._encode(entry)], "version": 1}
        )

    async def save(self, entries: tuple[KeyEntry, ...], expected_version: int) -> None:
        result = await self._col.update_one(
            {"_id": DOC_ID, "version": expected_version},
            {"$set": {"keys": [self._encode(e) for e in entries]}, "$inc": {"version": 1}},
        )
        if result.modified_count != 1:
            raise ConcurrentUpdate(f"{COLLECTION}/{DOC_ID}@{expected_version}")
