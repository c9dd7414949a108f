"""The signing keys, shared by every replica through one document (``_id`` = "keyring").

Each entry holds a private key as PKCS#8 PEM (encrypted with the configured passphrase when
there is one) and the moment it starts signing. Which key signs and which ones the JWKS
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
from chorale_identity.domain.keys import SigningKey
from chorale_runtime.mongo import is_duplicate_key

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


class KeyRingRepository:
    def __init__(self, db: AsyncDatabase, passphrase: str | None = None):
        self._col = db[COLLECTION]
        self._passphrase = passphrase.encode() if passphrase else None
        self._decoded: dict[str, SigningKey] = {}  # PEM decoding (and decryption) once per key

    def _encode(self, entry: KeyEntry) -> dict[str, Any]:
        return {
            "kid": entry.kid,
            "pem": entry.key.to_pem(self._passphrase).decode("ascii"),
            "encrypted": self._passphrase is not None,
            "createdAt": entry.created_at,
            "activatesAt": entry.activates_at,
        }

    def _decode(self, raw: dict[str, Any]) -> KeyEntry:
        key = self._decoded.get(raw["kid"])
        if key is None:
            password = self._passphrase if raw.get("encrypted") else None
            if raw.get("encrypted") and password is None:
                raise RuntimeError(
                    "the signing keys are encrypted: set CHORALE_SIGNING_KEY_PASSPHRASE"
                )
            key = SigningKey.from_pem(raw["pem"], password)
            self._decoded[key.kid] = key
        return KeyEntry(key, raw["createdAt"], raw["activatesAt"])

    async def load(self) -> StoredRing | None:
        doc = await self._col.find_one({"_id": DOC_ID})
        if doc is None:
            return None
        return StoredRing(tuple(self._decode(k) for k in doc["keys"]), int(doc["version"]))

    async def create(self, entry: KeyEntry) -> bool:
        """False if another replica created the ring first."""
        try:
            await self._col.insert_one({"_id": DOC_ID, "keys": [self._encode(entry)], "version": 1})
            return True
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise

    async def save(self, entries: tuple[KeyEntry, ...], expected_version: int) -> None:
        result = await self._col.update_one(
            {"_id": DOC_ID, "version": expected_version},
            {"$set": {"keys": [self._encode(e) for e in entries]}, "$inc": {"version": 1}},
        )
        if result.modified_count != 1:
            raise ConcurrentUpdate(f"{COLLECTION}/{DOC_ID}@{expected_version}")
